import { defineErrors } from '@townhall/core';

/** Errors of the platform runtime: readiness, and changing the platform's secret key. */
export class PlatformError extends defineErrors({
  not_ready: { status: 503, title: 'Not ready' },
  secret_key_unchanged: { status: 400, title: 'Secret key unchanged' },
  secret_key_mismatch: { status: 409, title: 'Secret key does not match' },
  platform_in_use: { status: 409, title: 'Platform in use' },
  owner_cannot_act_as_application_role: { status: 409, title: 'Owner cannot act as the application role' },
  secret_does_not_open: { status: 409, title: 'A stored secret does not open' },
}) {}
