/**
 * Which workers serve the queue. A worker is live while BullMQ lists its named connection
 * (`Queue.getWorkers()`: Redis drops it the moment the process dies; one missed listing is
 * forgiven, for a reconnect) and its heartbeat key exists (deleted when the worker stops, expired
 * when it hangs or is cut off). The heartbeat says what the run
 * shows: host, sandbox, concurrency, load.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { redisKeys } from './connection.js';

export const workerHeartbeatSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,120}$/),
    host: z.string().max(255),
    pid: z.number().int().nonnegative(),
    sandbox: z.string().max(20),
    concurrency: z.number().int().min(1).max(4096),
    busy: z.number().int().nonnegative(),
    done: z.number().int().nonnegative(),
    startedAt: z.string().max(40),
    warning: z.string().max(500).optional(),
  })
  .strict();
export type WorkerHeartbeat = z.infer<typeof workerHeartbeatSchema>;

export function workerHeartbeatJson(heartbeat: WorkerHeartbeat): string {
  return JSON.stringify(heartbeat);
}

/**
 * The workers BullMQ lists as connected, and the heartbeats of those and of `known` ones (a
 * worker's connection may be missing from one listing while it reconnects).
 */
export async function listWorkers(
  queue: Queue,
  redis: Redis,
  known: readonly string[] = [],
): Promise<{ listed: Set<string>; heartbeats: Map<string, WorkerHeartbeat> }> {
  const clients = await queue.getWorkers();
  const listed = new Set(
    clients
      .map((client) => /:w:([A-Za-z0-9._-]{1,120})$/.exec(client.rawname ?? '')?.[1])
      .filter((id): id is string => id !== undefined),
  );
  const ids = [...new Set([...listed, ...known])];
  const heartbeats = new Map<string, WorkerHeartbeat>();
  if (ids.length === 0) return { listed, heartbeats };
  const values = await redis.mget(ids.map(redisKeys.worker));
  for (const value of values) {
    if (value === null || value.length > 4096) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(value);
    } catch {
      continue;
    }
    const parsed = workerHeartbeatSchema.safeParse(raw);
    if (parsed.success) heartbeats.set(parsed.data.id, parsed.data);
  }
  return { listed, heartbeats };
}
