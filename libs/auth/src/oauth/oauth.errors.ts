import { defineErrors } from '@townhall/core';

/**
 * Errors of the client API's authentication. Those with an RFC 6749 code carry it as `oauthError`, so
 * they reach OAuth clients as `{"error": "invalid_grant", "error_description": …}`; the others reach
 * Mastodon clients as Mastodon words them.
 */
export class ClientAuthError extends defineErrors({
  invalid_token: { status: 401, title: 'The access token is invalid' },
  insufficient_scope: { status: 403, title: 'This action is outside the authorized scopes' },
  user_required: { status: 422, title: 'This method requires an authenticated user' },
  login_disabled: { status: 403, title: 'Your login is currently disabled' },
  validation_failed: { status: 422, title: 'Validation failed' },
  too_many_attempts: { status: 429, title: 'Too many requests' },
}) {}

const OAUTH_CODES = {
  invalid_request: { status: 400, title: 'Invalid request' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  invalid_grant: { status: 400, title: 'Invalid grant' },
  unauthorized_client: { status: 400, title: 'Unauthorized client' },
  unsupported_grant_type: { status: 400, title: 'Unsupported grant type' },
  unsupported_response_type: { status: 400, title: 'Unsupported response type' },
  invalid_scope: { status: 400, title: 'Invalid scope' },
  access_denied: { status: 403, title: 'Access denied' },
  server_error: { status: 500, title: 'Server error' },
} as const;

export type OAuthErrorCode = keyof typeof OAUTH_CODES;

export class OAuthProtocolError extends defineErrors(OAUTH_CODES) {
  /** The RFC 6749 error code, which the error filter answers as `error`. */
  get oauthError(): string {
    return this.code;
  }
}
