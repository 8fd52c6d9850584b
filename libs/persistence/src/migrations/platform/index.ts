import { PlatformFoundation1732600000000 } from './1732600000000-platform-foundation';
import { ActorKeyPool1732600100000 } from './1732600100000-actor-key-pool';
import { StatusBeforeDeletion1732600200000 } from './1732600200000-status-before-deletion';
import { AuditLog1732600300000 } from './1732600300000-audit-log';
import { AuditPersonalData1732600350000 } from './1732600350000-audit-personal-data';
import { Regulators1732600400000 } from './1732600400000-regulators';
import { AuditSequencerLock1732600500000 } from './1732600500000-audit-sequencer-lock';
import { AuditEntriesTenantSeq1732600600000 } from './1732600600000-audit-entries-tenant-seq';
import { SecretKeyCheck1732600800000 } from './1732600800000-secret-key-check';
import { TenantDomainSkeletons1732600900000 } from './1732600900000-tenant-domain-skeletons';
import { AuditPeriodKeys1732601200000 } from './1732601200000-audit-period-keys';
import { AuditSigningKeyCustody1732601300000 } from './1732601300000-audit-signing-key-custody';
import { ScheduledWork1732601500000 } from './1732601500000-scheduled-work';
import { AuditWitnesses1732601700000 } from './1732601700000-audit-witnesses';
import { MediaProcessing1732601900000 } from './1732601900000-media-processing';

export { TENANT_DOMAIN_SKELETON_INDEX } from './1732600900000-tenant-domain-skeletons';
export {
  APP_LOGIN_SETTING,
  APP_ROLE_SETTING,
  ensureApplicationLogin,
  ensureApplicationRole,
  ensureOwnerMayActAs,
} from './1732600300000-audit-log';

/** Platform migrations in the order they apply. */
export const PLATFORM_MIGRATIONS = [
  PlatformFoundation1732600000000,
  ActorKeyPool1732600100000,
  StatusBeforeDeletion1732600200000,
  AuditLog1732600300000,
  AuditPersonalData1732600350000,
  Regulators1732600400000,
  AuditSequencerLock1732600500000,
  AuditEntriesTenantSeq1732600600000,
  SecretKeyCheck1732600800000,
  TenantDomainSkeletons1732600900000,
  AuditPeriodKeys1732601200000,
  AuditSigningKeyCustody1732601300000,
  ScheduledWork1732601500000,
  AuditWitnesses1732601700000,
  MediaProcessing1732601900000,
];
