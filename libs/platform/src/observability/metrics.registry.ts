import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's Prometheus registry. One per Nest app rather than prom-client's global one, so several
 * apps in one process (the all-in-one, tests) never collide on metric names.
 */
export class MetricsRegistry extends Registry {
  constructor() {
    super();
    collectDefaultMetrics({ register: this });
  }
}
