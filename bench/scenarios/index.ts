import type { Scenario } from '../support/scenario';
import { auditScenario } from './audit';
import { httpScenario } from './http';
import { provisioningScenario } from './provisioning';
import { publicPagesScenario } from './public-pages';
import { socialScenario } from './social';
import { verifyScenario } from './verify';

/** Every scenario `npm run bench` knows, in the order `--scenario all` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  provisioningScenario,
  auditScenario,
  verifyScenario,
  httpScenario,
  socialScenario,
  publicPagesScenario,
];
