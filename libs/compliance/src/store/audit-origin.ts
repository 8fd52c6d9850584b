/**
 * Why a log whose checkpoints are signed as `signedAs` (null: none yet) cannot be signed as
 * `configured`, or null when it can: a verifier pins the origin of a log, so it never changes once a
 * checkpoint names it. Checked at start (preparePlatform) and again before each signature.
 */
export function auditOriginProblem(signedAs: string | null, configured: string): string | null {
  if (signedAs === null || signedAs === configured) return null;
  return (
    `TOWNHALL_AUDIT_ORIGIN is "${configured}" but the audit log's checkpoints are signed as "${signedAs}": ` +
    `a log's origin cannot change (set TOWNHALL_AUDIT_ORIGIN=${signedAs})`
  );
}
