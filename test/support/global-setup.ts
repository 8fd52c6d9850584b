import { randomBytes } from 'node:crypto';
import { TEST_RUN_VARIABLE } from './test-run';

/**
 * Gives the jest run an id before any worker starts (workers inherit the environment): every database
 * and Redis prefix a test makes carries it, so the global teardown can check that the run left nothing.
 */
export default function globalSetup(): void {
  process.env[TEST_RUN_VARIABLE] ??= randomBytes(4).toString('hex');
}
