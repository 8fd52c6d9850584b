import { canonicalHost, checkEmailAddress, checkText, mixedScriptLabel, type TextRule } from '@townhall/core';
import { ProvisioningError } from './provisioning.errors';

/**
 * Commands are validated when they are made, so a CLI, a worker and the HTTP API calling a use case
 * all get the same checks (HTTP additionally validates its DTO for good error messages). The rules
 * each field follows are exported for those DTOs and the CLI's option parsers.
 */
export const SLUG_PATTERN = /^[a-z0-9-]{3,40}$/;
export const DISPLAY_NAME_RULE: TextRule = { field: 'displayName', maxLength: 100 };
export const SUSPENSION_REASON_RULE: TextRule = { field: 'reason', maxLength: 500 };

/**
 * A tenant's domain, canonical (`canonicalHost`): at least two labels (or `localhost`), no port, and no
 * label that mixes scripts as look-alike domains do. Whether it is free, reserved or confusable with
 * another tenant's is for the use case, which can look.
 */
export function checkTenantDomain(
  raw: unknown,
): { domain: string; problem?: undefined } | { problem: string } {
  const domain = typeof raw === 'string' && !raw.includes(':') ? canonicalHost(raw) : undefined;
  if (domain === undefined || (!domain.includes('.') && domain !== 'localhost')) {
    return { problem: 'domain must be a host name such as social.agency.example (no scheme, port or path)' };
  }
  const mixed = mixedScriptLabel(domain);
  if (mixed !== undefined) {
    return {
      problem: `domain must not mix scripts within a label as look-alike domains do ("${mixed}"), nor use a script not recommended for domain names`,
    };
  }
  return { domain };
}

export class ProvisionTenantCommand {
  readonly slug: string;
  readonly domain: string;
  readonly displayName: string;
  readonly adminEmail: string;

  constructor(input: { slug: string; domain: string; displayName: string; adminEmail: string }) {
    if (typeof input.slug !== 'string' || !SLUG_PATTERN.test(input.slug))
      throw invalid('slug must match [a-z0-9-]{3,40}');
    this.slug = input.slug;
    this.domain = valid(checkTenantDomain(input.domain)).domain;
    this.displayName = valid(checkText(input.displayName, DISPLAY_NAME_RULE)).text;
    this.adminEmail = valid(checkEmailAddress(input.adminEmail)).address;
  }
}

/** What a check found valid, or the use case's refusal with the check's own words. */
export function valid<T extends { problem?: string }>(check: T): Exclude<T, { problem: string }> {
  if (check.problem !== undefined) throw invalid(check.problem);
  return check as Exclude<T, { problem: string }>;
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
