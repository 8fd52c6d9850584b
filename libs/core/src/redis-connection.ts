import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { TOWNHALL_CONFIG, type TownhallConfig } from './config';

/**
 * The process's command connection to Redis for what is not a queue: rate-limit counters and
 * publishing platform events. Connects on first use (a CLI command that needs none opens none) and
 * pipelines concurrent commands, so a request's counter costs no round trip of its own under load.
 * Keys are the caller's to prefix (`key()`), so they share TOWNHALL_REDIS_PREFIX with the queues.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private client: Redis | undefined;

  constructor(@Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig) {}

  get redis(): Redis {
    this.client ??= this.open();
    return this.client;
  }

  /** A key under the deployment's prefix. */
  key(...parts: string[]): string {
    return [this.config.redis.keyPrefix, ...parts].join(':');
  }

  /** A separate connection for subscribing (a subscribed connection can send no other command). */
  subscriber(): Redis {
    return this.open();
  }

  private open(): Redis {
    const client = new Redis(this.config.redis.url, {
      lazyConnect: true,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 2,
      connectTimeout: 3000,
    });
    // Failures surface on the commands that hit them; the connection retries by itself.
    client.on('error', () => undefined);
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.status !== 'end') await client.quit().catch(() => client.disconnect());
  }
}
