import { defineErrors } from '@townhall/core';

export class ProvisioningError extends defineErrors({
  slug_taken: { status: 409, title: 'Slug already in use' },
  domain_taken: { status: 409, title: 'Domain already in use' },
  domain_confusable: { status: 409, title: 'Domain looks like one already in use' },
  domain_reserved: { status: 400, title: 'Domain reserved for the platform' },
  tenant_not_found: { status: 404, title: 'Tenant not found' },
  invalid_transition: { status: 409, title: 'Not possible in the tenant’s current state' },
  invalid_command: { status: 400, title: 'Invalid request' },
}) {}
