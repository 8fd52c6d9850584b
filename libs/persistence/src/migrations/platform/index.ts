import { PlatformFoundation1732600000000 } from './1732600000000-platform-foundation';
import { ActorKeyPool1732600100000 } from './1732600100000-actor-key-pool';
import { StatusBeforeDeletion1732600200000 } from './1732600200000-status-before-deletion';

/** Platform migrations in the order they apply. */
export const PLATFORM_MIGRATIONS = [PlatformFoundation1732600000000, ActorKeyPool1732600100000, StatusBeforeDeletion1732600200000];
