// The narrow path: the offline verifier (and its worker threads) must not load the whole platform core.
import { defineErrors } from '@townhall/core/errors';

/**
 * Errors of the compliance library. Verification failures of a bundle are *results*
 * (`AuditVerificationFailure`), not errors: these codes are for callers that hand the library values
 * it cannot work with (a value JCS cannot represent, an invalid key description, …).
 */
export class ComplianceError extends defineErrors({
  not_canonicalizable: { status: 400, title: 'Value has no canonical JSON form' },
  invalid_audit_entry: { status: 400, title: 'Invalid audit entry' },
  invalid_key: { status: 400, title: 'Invalid audit signing key' },
  invalid_checkpoint: { status: 400, title: 'Invalid audit checkpoint' },
  invalid_signed_note: { status: 400, title: 'Invalid signed note' },
  invalid_verifier_key: { status: 400, title: 'Invalid note verifier key' },
  invalid_proof_request: { status: 400, title: 'No such Merkle proof' },
  checkpoint_not_found: { status: 404, title: 'No such checkpoint' },
  invalid_bundle_request: { status: 400, title: 'Invalid audit bundle request' },
  audit_subject_not_found: { status: 404, title: 'Audit subject not found' },
  audit_subject_is_own: { status: 403, title: 'Cannot erase your own audit subject' },
  invalid_personal_data_ref: { status: 400, title: 'Invalid personal data reference' },
  invalid_subject_identifier: { status: 400, title: 'Invalid subject identifier' },
}) {}
