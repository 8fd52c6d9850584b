export * from './audit-witnesses.repository';
export * from './checkpoint-notes';
export * from './witness-submission';
export * from './witness-submission.worker';
