import { canonicalHost } from '@townhall/tenancy';
import { ProvisioningError } from './provisioning.errors';

/**
 * Commands are validated when they are made, so a CLI, a worker and the HTTP API calling a use case
 * all get the same checks (HTTP additionally validates its DTO for good error messages).
 */
export const SLUG_PATTERN = /^[a-z0-9-]{3,40}$/;
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export class ProvisionTenantCommand {
  readonly slug: string;
  readonly domain: string;
  readonly displayName: string;
  readonly adminEmail: string;

  constructor(input: { slug: string; domain: string; displayName: string; adminEmail: string }) {
    if (!SLUG_PATTERN.test(input.slug))
      throw new ProvisioningError('invalid_command', 'slug must match [a-z0-9-]{3,40}');
    const domain = canonicalHost(input.domain);
    if (!domain || (!domain.includes('.') && domain !== 'localhost')) {
      throw new ProvisioningError('invalid_command', `"${input.domain}" is not a valid host name`);
    }
    const displayName = input.displayName.trim();
    if (displayName.length < 1 || displayName.length > 100) {
      throw new ProvisioningError('invalid_command', 'displayName must be 1 to 100 characters');
    }
    if (!EMAIL_PATTERN.test(input.adminEmail))
      throw new ProvisioningError('invalid_command', 'adminEmail is not an email address');
    this.slug = input.slug;
    this.domain = domain;
    this.displayName = displayName;
    this.adminEmail = input.adminEmail.trim();
  }
}

export const MIN_DELETION_GRACE_SECONDS = 3600;
export const DEFAULT_DELETION_GRACE_SECONDS = 7 * 24 * 3600;
export const MAX_DELETION_GRACE_SECONDS = 90 * 24 * 3600;

export interface DeleteTenantInput {
  graceSeconds?: number;
  /** The separate confirmation an immediate purge needs; a short grace period is not one. */
  purgeImmediately?: boolean;
}

/**
 * How a tenant is deleted: its data is dropped after a grace period, during which resume cancels the
 * deletion, or at once — but only when that is asked for by name. A grace period below an hour is
 * refused rather than read as "now": an empty or mistyped number must never destroy a tenant.
 */
export class DeleteTenantCommand {
  readonly graceSeconds: number;
  readonly purgeImmediately: boolean;

  constructor(input: DeleteTenantInput = {}) {
    const grace = input.graceSeconds;
    if (
      grace !== undefined &&
      (!Number.isSafeInteger(grace) || grace < 0 || grace > MAX_DELETION_GRACE_SECONDS)
    ) {
      throw invalid(
        `graceSeconds must be an integer from ${MIN_DELETION_GRACE_SECONDS} to ${MAX_DELETION_GRACE_SECONDS}`,
      );
    }
    this.purgeImmediately = input.purgeImmediately === true;
    if (this.purgeImmediately) {
      if (grace !== undefined && grace !== 0) {
        throw invalid('an immediate purge has no grace period: give graceSeconds or the purge, not both');
      }
      this.graceSeconds = 0;
      return;
    }
    if (grace !== undefined && grace < MIN_DELETION_GRACE_SECONDS) {
      throw invalid(
        `graceSeconds must be at least ${MIN_DELETION_GRACE_SECONDS} (one hour); to drop the tenant's data at once, ` +
          'confirm an immediate purge (purge=immediately, or --purge-immediately on the command line)',
      );
    }
    this.graceSeconds = grace ?? DEFAULT_DELETION_GRACE_SECONDS;
  }
}

function invalid(detail: string): ProvisioningError {
  return new ProvisioningError('invalid_command', detail);
}
