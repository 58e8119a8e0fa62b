/**
 * Redis for the evaluation queue: the URL check, the names every side agrees on, the clients, and
 * the probe at start that turns "unreachable" and "wrong password" into one clear line.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { UserError } from '../errors.js';

/** BullMQ key prefix and queue name: every run and worker on one Redis share this queue. */
export const QUEUE_PREFIX = 'funsearch';
export const QUEUE_NAME = 'evaluations';

/** Keys of our own beside BullMQ's (which all start with `funsearch:evaluations:`). */
export const redisKeys = {
  /** A worker's heartbeat: JSON of what it is and does, with a TTL. */
  worker: (id: string) => `${QUEUE_PREFIX}:worker:${id}`,
  /** The live session of a run: jobs of any other session of that run are stale. */
  runSession: (run: string) => `${QUEUE_PREFIX}:run:${run}:session`,
};

/** Checks a `--redis` / FUNSEARCH_REDIS_URL value; `source` names where it came from. */
export function checkRedisUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(
      `${source}: expected redis://[:password@]host[:port][/db] or rediss://… for TLS, got \`${redactUrl(raw)}\``,
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UserError(
      `${source}: expected a redis:// or rediss:// URL, got the scheme \`${url.protocol}\` in \`${redactUrl(raw)}\``,
    );
  }
  if (!url.hostname) throw new UserError(`${source}: no host in \`${redactUrl(raw)}\``);
  return raw;
}

/** The URL without its password, for log and error lines. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * A client for BullMQ (which needs `maxRetriesPerRequest: null`): it reconnects forever, and
 * commands issued while Redis is away wait for it, so a Redis restart is a pause, not a failure.
 */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    ...options,
  });
}

/** Logs once when the connection is lost and once when it is back (ioredis reconnects on its own). */
export function reportConnection(
  redis: Redis,
  url: string,
  logger: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void } | undefined,
): void {
  let lost = false;
  redis.on('error', (error) => {
    if (lost) return;
    lost = true;
    logger?.warn(
      { redis: redactUrl(url), error: String(error.message ?? error) },
      'lost Redis; reconnecting',
    );
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger?.info({ redis: redactUrl(url) }, 'Redis is back');
  });
}

/** Connects once, without retries: a user error (exit 2) if Redis cannot be reached or refuses us. */
export async function probeRedis(url: string, source: string, timeoutMs = 5000): Promise<void> {
  const shown = redactUrl(url);
  let lastError: (Error & { code?: string }) | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const cause = lastError ?? (error as Error & { code?: string });
    throw new UserError(describeFailure(shown, source, cause));
  } finally {
    client.disconnect();
  }
}

function describeFailure(shown: string, source: string, error: Error & { code?: string }): string {
  // A Redis error reply starts with its error code (WRONGPASS, NOAUTH, …): the protocol's own field.
  const replyCode = error.name === 'ReplyError' ? error.message.split(' ')[0] : undefined;
  if (replyCode === 'WRONGPASS' || replyCode === 'NOAUTH' || replyCode === 'NOPERM') {
    return `Redis at ${shown} refused us (${replyCode}): check the user and password in ${source} (redis://[user]:PASSWORD@host:port)`;
  }
  const code = error.code ?? replyCode ?? error.message;
  return `cannot reach Redis at ${shown} (${code}): start redis-server there, or check ${source}`;
}

/** Waits for `promise` (its failure ignored) at most `ms`. */
export async function withinMs(ms: number, promise: Promise<unknown> | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise?.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
