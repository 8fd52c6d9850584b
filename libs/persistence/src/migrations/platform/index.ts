import { PlatformFoundation1732600000000 } from './1732600000000-platform-foundation';
import { ActorKeyPool1732600100000 } from './1732600100000-actor-key-pool';

/** Platform migrations in the order they apply. */
export const PLATFORM_MIGRATIONS = [PlatformFoundation1732600000000, ActorKeyPool1732600100000];
