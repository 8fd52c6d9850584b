import { PlatformFoundation1732600000000 } from './1732600000000-platform-foundation';

/** Platform migrations in the order they apply. */
export const PLATFORM_MIGRATIONS = [PlatformFoundation1732600000000];
