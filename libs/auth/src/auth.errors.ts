import { defineErrors } from '@townhall/core';

/** Errors of authentication and of managing the credentials themselves. */
export class AuthError extends defineErrors({
  missing_token: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'Invalid credentials' },
  too_many_failures: { status: 429, title: 'Too many failed authentications' },
  invalid_operator_name: { status: 400, title: 'Invalid operator name' },
  operator_exists: { status: 409, title: 'Operator already exists' },
  operator_not_found: { status: 404, title: 'Operator not found' },
}) {}
