// Helpers for the conformance suites: real node:net peers, checksums and small promise tools.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import {
  type Channel,
  type ChannelHandler,
  type ConnectOptions,
  type EventLoop,
  type Lease,
  type Listener,
  POISON_BYTE,
} from '@iolease/interfaces';

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  /** Fulfils the promise. */
  resolve(value: T): void;
  /** Rejects the promise. */
  reject(error: unknown): void;
}

/** A new {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `predicate` holds, polling every few milliseconds. After `ms` it fails with what
 * it waited for and, when given, the state `state()` describes (a stuck loop's pool, say), so a
 * stall names its rule and its cause instead of ending in a bare timeout.
 */
export async function until(
  predicate: () => boolean,
  ms = 5000,
  what = 'condition',
  state?: () => unknown,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw stalled(`${what} (after ${ms} ms)`, state);
    await sleep(2);
  }
}

/**
 * Resolves as `promise` does, or fails after `ms` with `rule` and the state `state()` describes:
 * the watchdog of a test that must not hang.
 */
export async function watchdog<T>(promise: Promise<T>, ms: number, rule: string, state?: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(stalled(`${rule}: stalled for ${ms} ms`, state)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function stalled(what: string, state: (() => unknown) | undefined): Error {
  if (state === undefined) return new Error(`timed out waiting for ${what}`);
  let described: string;
  try {
    described = JSON.stringify(state());
  } catch (error) {
    described = `(state unavailable: ${String(error)})`;
  }
  return new Error(`timed out waiting for ${what}; state: ${described}`);
}

/**
 * Runs `fn` with `loop`, then closes the loop, whether `fn` succeeded or failed. The close must
 * resolve (LIFE-10): one that has not after 15 s fails with the listeners, channels and leases
 * still open, instead of leaving the test to end on the runner's timeout. A failure of `fn` is
 * the one reported; after one, the close gets 5 s, as a backend stuck in `fn` is likely stuck in
 * its close too, and the failure should not wait the full 15 s to be told.
 */
export async function usingLoop<L extends EventLoop, T>(loop: L, fn: (loop: L) => Promise<T>): Promise<T> {
  const closed = (ms: number) =>
    watchdog(loop.close(), ms, 'LIFE-10 loop.close() resolves', () => {
      const stats = loop.stats();
      return { listenersOpen: stats.listenersOpen, channelsOpen: stats.channelsOpen, leasesOut: stats.pool.leasesOut };
    });
  let result: T;
  try {
    result = await fn(loop);
  } catch (failure) {
    await closed(5000).catch(() => undefined);
    throw failure;
  }
  await closed(15_000);
  return result;
}

/** `listener.close()`, which must resolve (LIFE-11): one that has not after 10 s fails the test. */
export function closeListener(listener: Listener): Promise<void> {
  return watchdog(listener.close(), 10_000, 'LIFE-11 listener.close() resolves');
}

/** A loop's pool as a watchdog reports it: per class, free and leased buffers and pressure. */
export function poolState(loop: EventLoop): unknown {
  const stats = loop.stats();
  return {
    channelsOpen: stats.channelsOpen,
    leasesOut: stats.pool.leasesOut,
    classes: stats.pool.classes.map((c) => ({
      size: c.size,
      available: c.available,
      leased: c.leased,
      underPressure: c.underPressure,
    })),
  };
}

/** An echo server: every lease is written back and released when its write completes. */
export function echoHandler(extra: Partial<ChannelHandler> = {}): ChannelHandler {
  return {
    onRead(channel: Channel, lease: Lease) {
      channel.write(lease.bytes, () => lease.release());
    },
    onEnd(channel: Channel) {
      channel.shutdown();
    },
    ...extra,
  };
}

/**
 * Listens on a free port of `host` (default 127.0.0.1) with {@link echoHandler} for every
 * channel. A listen that has not settled after 10 s fails naming LIFE-1.
 */
export async function echoServer(loop: EventLoop, host?: string): Promise<Listener> {
  return watchdog(
    loop.listen({ port: 0, ...(host === undefined ? {} : { host }) }, () => echoHandler()),
    10_000,
    'LIFE-1 a listen on a free port',
  );
}

/** A node:net client; resolves once connected. */
export function netConnect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Everything a node:net socket receives until it ends. A stream that goes `stallMs` without data
 * or its end rejects with how many bytes came; one destroyed here just never resolves.
 */
export function readAll(socket: net.Socket, stallMs = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    // A stream that stops short of its end fails the test with how far it got, rather than
    // leaving it to end on the runner's timeout.
    const timer = setTimeout(() => {
      reject(new Error(`timed out waiting for the peer's end: nothing for ${stallMs} ms after ${received} bytes`));
    }, stallMs);
    timer.unref();
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      timer.refresh();
    });
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // Destroyed here without an end: the test is done with this socket, so no failure follows.
    socket.once('close', () => clearTimeout(timer));
  });
}

/** The SHA-256 of the bytes (of all parts, in order), in hex. */
export function sha256(data: Uint8Array | Uint8Array[]): string {
  const h = createHash('sha256');
  for (const part of Array.isArray(data) ? data : [data]) h.update(part);
  return h.digest('hex');
}

export { randomBytes };

/** Collects a channel's reads (copied) and releases each lease at once. */
export function collectingHandler(): ChannelHandler & {
  readonly chunks: Buffer[];
  readonly ended: Deferred<Buffer>;
  readonly closed: Deferred<void>;
  readonly errors: unknown[];
} {
  const chunks: Buffer[] = [];
  const ended = deferred<Buffer>();
  const closed = deferred<void>();
  const errors: unknown[] = [];
  return {
    chunks,
    ended,
    closed,
    errors,
    onRead(_channel, lease) {
      chunks.push(Buffer.from(lease.bytes));
      lease.release();
    },
    onEnd() {
      ended.resolve(Buffer.concat(chunks));
    },
    onError(_channel, error) {
      errors.push(error);
    },
    onClose() {
      closed.resolve();
    },
  };
}

/**
 * A client channel of the loop under test, connected to a plain node:net server socket (the peer), so each side
 * is driven by a different implementation. Without `handler`, the channel reads nothing until it
 * gets one (LIFE-2).
 */
export async function connectToNetPeer(
  loop: EventLoop,
  handler: ChannelHandler | undefined,
  options: Omit<ConnectOptions, 'port'> = {},
): Promise<{ channel: Channel; peer: net.Socket; server: net.Server }> {
  // allowHalfOpen: the peer must not answer our FIN with its own (half-close tests).
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const channel = await watchdog(
    loop.connect({ ...options, port }, handler),
    10_000,
    'LIFE-3 a connect to a listening peer',
  );
  const peer = await watchdog(accepted, 10_000, 'LIFE-3 the peer accepting the connect');
  server.close();
  return { channel, peer, server };
}

/**
 * How many bytes of `lease.bytes.buffer` outside `lease.bytes` hold anything but zero or the
 * poison byte: data a careless `Buffer.from(lease.bytes.buffer)` would expose (LEASE-11).
 */
export function strayBytes(lease: Lease): number {
  const { buffer, byteOffset, byteLength } = lease.bytes;
  const all = new Uint8Array(buffer);
  let stray = 0;
  for (let i = 0; i < all.length; i++) {
    if (i >= byteOffset && i < byteOffset + byteLength) continue;
    const b = all[i] as number;
    if (b !== 0 && b !== POISON_BYTE) stray++;
  }
  return stray;
}

/** Options of {@link runNode}. */
export interface RunNodeOptions {
  /** How long the child may run; one still running then is stuck (default 25,000 ms). */
  readonly deadlineMs?: number;
  /** A program to start Node under, with its arguments (a seccomp filter, say). */
  readonly launcher?: readonly string[];
  /** The child's working directory, where its bare imports resolve (default: this process's). */
  readonly cwd?: string | URL;
  /** Variables set in the child's environment, over this process's own. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs an ES module script in a child Node (the one running the tests); resolves with how it
 * ended and its stdout. For tests that watch a whole process: its exit, its uncaught
 * exceptions, a crash. A child still running after the deadline is stuck: it is killed, and the
 * promise rejects with what it had printed, so the test fails with that state rather than hang
 * (a live child would keep the test runner from ever finishing).
 */
export function runNode(
  script: string,
  options: RunNodeOptions = {},
): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  const { deadlineMs = 25_000, launcher = [], cwd, env } = options;
  return new Promise((resolve, reject) => {
    const argv = [...launcher, process.execPath, '--input-type=module', '-e', script];
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd,
      env: env === undefined ? undefined : { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the child process was still running after ${deadlineMs} ms (stuck); it had printed ${JSON.stringify(stdout)}`,
        ),
      );
    }, deadlineMs);
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout });
    });
  });
}

/**
 * This process's open file descriptors and what each names (Linux, `/proc/self/fd`): take one
 * before, and {@link fdsOpenedSince} tells what is still open after.
 */
export function openFdTable(): Map<string, string> {
  return new Map(
    readdirSync('/proc/self/fd').map((fd) => {
      try {
        return [fd, readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [fd, '?']; // closed between the listing and the look
      }
    }),
  );
}

/**
 * How many fds this process has open, `/dev/null` left out as in {@link fdsOpenedSince}: a
 * count to compare before and after, in a test that closed everything it opened.
 */
export function countOpenFds(): number {
  let n = 0;
  for (const target of openFdTable().values()) if (target !== '?' && target !== '/dev/null') n++;
  return n;
}

/**
 * What is open now that was not in `before` (an {@link openFdTable}): a leak, in a test that
 * closed everything. An fd closed while the table was read (`?`) is not open, and `/dev/null` is
 * left out: no loop opens it, while Node opens it for a worker's or child's stdio, and a test
 * runner (StrykerJS's, for one) keeps such fds of its own.
 */
export function fdsOpenedSince(before: Map<string, string>): string[] {
  return [...openFdTable()]
    .filter(([fd, target]) => target !== '?' && target !== '/dev/null' && before.get(fd) !== target)
    .map(([, target]) => target);
}

/**
 * The fds opened since `before` that stay open: {@link fdsOpenedSince}, asked again until it is
 * empty or `settleMs` have passed. Whatever else runs in the process (a test runner starting a
 * child with its stdio on `/dev/null`, say) opens and closes fds of its own at any moment; a
 * leak is the one that is still there.
 */
export async function fdsLeftOpenSince(before: Map<string, string>, settleMs = 1000): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const opened = fdsOpenedSince(before);
    if (opened.length === 0 || Date.now() >= deadline) return opened;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
