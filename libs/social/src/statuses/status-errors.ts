import { defineErrors } from '@townhall/core';

/** The errors of statuses and what hangs on them (media, polls, filters), with Mastodon's statuses and wording. */
export class StatusError extends defineErrors({
  validation_failed: { status: 422, title: 'Validation failed' },
  not_found: { status: 404, title: 'Record not found' },
  idempotency_conflict: { status: 422, title: 'Idempotency-Key reused' },
}) {}
