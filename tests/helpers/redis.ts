/** A real redis-server for tests: on a free loopback port, without persistence, stopped after. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { cleanEnv, runCli } from './cli.js';

export interface RedisServer {
  port: number;
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  /** Kills the server (SIGKILL: its data is gone) and starts a fresh one on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throw-away CA and a server certificate for 127.0.0.1, made with openssl. */
export interface TlsFiles {
  /** The directory holding them; the caller removes it. */
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'funsearch-redis-tls-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca'],
    ...['-keyout', at('ca.key'), '-out', at('ca.pem')],
  );
  writeFileSync(at('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1'],
    ...['-keyout', at('server.key'), '-out', at('server.csr')],
  );
  openssl(
    ...['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key')],
    ...['-CAcreateserial', '-days', '1', '-extfile', at('san.cnf'), '-out', at('server.pem')],
  );
  return { dir, ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

export async function startRedis(options: { password?: string; tls?: TlsFiles } = {}): Promise<RedisServer> {
  const port = await freePort();
  const auth = options.password ? `:${options.password}@` : '';
  const url = `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (options.tls) {
      const { cert, key, ca } = options.tls;
      args.push('--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no');
      args.push('--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', ca);
    } else args.push('--port', String(port));
    if (options.password) args.push('--requirepass', options.password);
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(url, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        ...(options.tls ? { tls: { ca: readFileSync(options.tls.ca) } } : {}),
      });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.disconnect();
      }
    }
  };
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: kill,
  };
}

/**
 * Runs the CLI with `args` against a password-protected Redis, with a wrong password in
 * FUNSEARCH_REDIS_URL: exit 2, one line naming the variable, and the password never printed.
 */
export async function expectWrongPasswordRefused(args: string[]): Promise<void> {
  const secured = await startRedis({ password: 'the-right-one' });
  try {
    const url = `redis://:not-it@127.0.0.1:${secured.port}`;
    const result = await runCli(args, { env: cleanEnv({ FUNSEARCH_REDIS_URL: url }) });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/refused us \(WRONGPASS\).*FUNSEARCH_REDIS_URL/);
    expect(result.stderr).not.toContain('not-it');
  } finally {
    await secured.stop();
  }
}
