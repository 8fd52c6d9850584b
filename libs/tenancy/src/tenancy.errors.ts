import { defineErrors } from '@townhall/core';

export class TenancyError extends defineErrors({
  unknown_host: { status: 404, title: 'No instance at this address' },
  tenant_not_found: { status: 404, title: 'Tenant not found' },
  tenant_suspended: { status: 503, title: 'This instance is suspended' },
  tenant_unavailable: { status: 503, title: 'This instance is not available' },
  rate_limited: { status: 429, title: 'Too many requests' },
  no_tenant_context: { status: 500, title: 'Internal Server Error' },
  invalid_host: { status: 400, title: 'Invalid host name' },
  invalid_cursor: { status: 400, title: 'Invalid cursor' },
  migration_run_in_progress: { status: 409, title: 'Another migration run is in progress' },
}) {}
