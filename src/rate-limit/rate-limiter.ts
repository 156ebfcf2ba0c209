// Fixed-window rate limits (rate-limiter-flexible): shared by every instance through Redis when
// REDIS_URL is set, per instance in memory otherwise. A Redis that errors or stops answering
// (commands time out after REDIS_COMMAND_TIMEOUT_MS) is replaced, call by call, by the instance's
// own memory: a warning, a metric, and never a call refused because the limiter is down.
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimited } from "../errors";

export interface RateLimitStoreOptions {
  /** redis://...; unset: every limit is per instance. */
  redisUrl?: string;
  /** Prefix of every key this service writes to Redis. */
  keyPrefix: string;
  /** A Redis command that takes longer falls back to memory. */
  commandTimeoutMs: number;
  logger?: Logger;
}

/** Told each time a call was counted in memory because Redis failed (for metrics). */
export type FallbackObserver = () => void;

/** Where limits are counted: one Redis connection for all of them, or none. */
export class RateLimitStore {
  readonly redis?: Redis;
  private readonly observers: FallbackObserver[] = [];
  private lastWarning = 0;

  constructor(private readonly options: RateLimitStoreOptions) {
    if (options.redisUrl) {
      this.redis = new Redis(options.redisUrl, {
        // Fail fast instead of queueing while Redis is away: the call is counted in memory meanwhile.
        enableOfflineQueue: false,
        commandTimeout: options.commandTimeoutMs,
        maxRetriesPerRequest: 0,
        connectTimeout: 2_000,
        lazyConnect: true,
        retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      });
      this.redis.on("error", (error) => this.warn(error));
      this.redis.connect().catch((error) => this.warn(error));
    }
  }

  onFallback(observer: FallbackObserver): void {
    this.observers.push(observer);
  }

  /** A limit of `points` calls per `durationSeconds` window for each key, or null when `points` is 0 (off). */
  limiter(name: string, points: number, durationSeconds: number): RateLimiter | null {
    if (points <= 0) return null;
    const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
    if (!this.redis) return new RateLimiter(memory, points);
    const store = this;
    const insurance = new (class extends RateLimiterMemory {
      override consume(key: string | number, pointsToConsume?: number, options?: { [key: string]: unknown }) {
        store.noteFallback();
        return super.consume(key, pointsToConsume, options);
      }
    })({ keyPrefix: name, points, duration: durationSeconds });
    const shared = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${this.options.keyPrefix}${name}`,
      points,
      duration: durationSeconds,
      rejectIfRedisNotReady: true,
      insuranceLimiter: insurance,
    });
    return new RateLimiter(shared, points);
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    this.redis.disconnect();
  }

  private noteFallback(): void {
    for (const observer of this.observers) observer();
    this.warn(new Error("Redis did not answer: counting this call in the instance's memory"));
  }

  /** At most one warning every 10 s: an outage must not flood the log. */
  private warn(error: Error): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.options.logger?.warn({ err: error }, "rate limits: Redis unavailable, limits fall back to this instance");
  }
}

export class RateLimiter {
  constructor(
    private readonly counter: RateLimiterMemory | RateLimiterRedis,
    readonly points: number,
  ) {}

  /** Counts `points` calls of `key` (1 unless a request stands for several); RateLimited past the limit. */
  async consume(key: string, points = 1): Promise<void> {
    try {
      await this.counter.consume(key, points);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const resetSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new RateLimited(this.points, resetSeconds);
      }
      // Not a verdict (the store and its fallback both failed): never refuse a call for it.
    }
  }
}
