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
