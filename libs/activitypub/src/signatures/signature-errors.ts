import { defineErrors } from '@townhall/core';

/**
 * Why a request's signature was refused. All are 401: the sender may retry, signed in the other
 * format or with a fresh key (Mastodon and Fedify do), and learns no more than that.
 */
const signatureCodes = {
  missing_signature: { status: 401, title: 'Signature required' },
  malformed_signature: { status: 401, title: 'Signature unreadable' },
  unsupported_algorithm: { status: 401, title: 'Signature algorithm not supported' },
  missing_component: { status: 401, title: 'Signature does not cover what it must' },
  stale: { status: 401, title: 'Signature outside its time window' },
  digest_mismatch: { status: 401, title: 'Body does not match its digest' },
  unknown_key: { status: 401, title: 'Signing key not found' },
  bad_signature: { status: 401, title: 'Signature does not verify' },
  key_not_actor: { status: 401, title: 'Signing key does not belong to the actor' },
} as const;

export class SignatureError extends defineErrors(signatureCodes) {}
