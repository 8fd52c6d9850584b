import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisConnection } from './redis-connection';

type Listener = (message: string) => void;

/**
 * Announcements between the platform's processes over Redis pub/sub: "this tenant changed", "this token
 * was revoked". One subscriber connection per process, opened when the first listener starts.
 *
 * Pub/sub delivers only to those connected at the time, so every listener also hears `onResync`: called
 * whenever the subscription is (re)established and whenever it is lost. A cache that listens must drop
 * what it holds then, and while `subscribed` is false it must not answer from memory at all.
 */
@Injectable()
export class PlatformEvents implements OnApplicationShutdown {
  private readonly logger = new Logger(PlatformEvents.name);
  private readonly listeners = new Map<string, Listener[]>();
  private readonly resyncs: (() => void)[] = [];
  private subscriber: Redis | undefined;
  private started: Promise<void> | undefined;
  private live = false;
  /** Channels the current connection is subscribed to. */
  private readonly subscribedTo = new Set<string>();

  constructor(private readonly redis: RedisConnection) {}

  /** Whether announcements are being heard right now. */
  get subscribed(): boolean {
    return this.live;
  }

  /** Listens on `channel` (under the deployment's key prefix) and connects if this is the first. */
  async listen(channel: string, listener: Listener, onResync: () => void): Promise<void> {
    const name = this.redis.key(channel);
    const known = this.listeners.get(name);
    if (known) known.push(listener);
    else this.listeners.set(name, [listener]);
    this.resyncs.push(onResync);
    this.started ??= this.start();
    await this.started;
    if (this.live && !this.subscribedTo.has(name)) {
      await this.subscriber!.subscribe(name);
      this.subscribedTo.add(name);
    }
  }

  async announce(channel: string, message: string): Promise<void> {
    await this.redis.redis.publish(this.redis.key(channel), message);
  }

  private async start(): Promise<void> {
    const subscriber = this.redis.subscriber();
    this.subscriber = subscriber;
    // Resolved by the first subscription or the first failure, so a caller can rely on `subscribed`.
    let firstAnswer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
    // ioredis fires `ready` after every (re)connection; subscribing again is harmless.
    subscriber.on('ready', () => {
      const channels = [...this.listeners.keys()];
      subscriber
        .subscribe(...channels)
        .then(() => {
          for (const channel of channels) this.subscribedTo.add(channel);
          this.live = true;
          this.resync();
        })
        .catch((err: unknown) => this.logger.warn({ err }, 'Could not subscribe to platform events'))
        .finally(firstAnswer);
    });
    subscriber.on('close', () => {
      if (this.live) this.logger.warn('Platform events subscription lost; caches answer from the database');
      this.live = false;
      this.subscribedTo.clear();
      this.resync();
      firstAnswer();
    });
    await subscriber.connect().catch((err: unknown) => {
      this.logger.warn({ err }, 'Could not subscribe to platform events; caches answer from the database');
      firstAnswer();
    });
    await answered;
  }

  private resync(): void {
    for (const resync of this.resyncs) resync();
  }

  async onApplicationShutdown(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.live = false;
    if (subscriber && subscriber.status !== 'end')
      await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
