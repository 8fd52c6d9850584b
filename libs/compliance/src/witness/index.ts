/**
 * Witnessing the audit log against split views (docs/audit-format.md §13): C2SP signed notes and
 * verifier keys, tlog-cosignature, the tlog-witness add-checkpoint protocol, the witness itself
 * (`townhall witness`, with its file state and HTTP server) and the verifier's witness policy
 * (`townhall audit verify --witness`). Nothing here needs the platform; the platform's side — submitting
 * checkpoints and storing cosignatures — is in ../store/witnesses.
 */
export * from './signed-note';
export * from './cosignature';
export * from './add-checkpoint';
export * from './witness-policy';
export * from './witness-files';
export * from './witness';
export * from './witness-server';
export * from './witness-command';
export * from './verifier-key-arguments';
