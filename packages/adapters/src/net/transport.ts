import type { Socket } from 'node:net';
import { isMarkedAsUntransferable } from 'node:worker_threads';
import { ChannelCore, type ChannelSettings, type ChannelTransport, type PendingWrite } from '@iolease/backend-core';
import { ErrorCode, IoleaseError, type SocketAddress } from '@iolease/interfaces';
import { fromNodeError } from '../errors.js';
import type { NetEventLoop } from './loop.js';
import type { PoolReader } from './pool.js';

/**
 * One connection on the node:net backend: the I/O its {@link ChannelCore} asks for, on a
 * `net.Socket` whose `onread` lands every read in the loop's pool (see NetBufferPool) and whose
 * write callbacks are the write completions. The core is the channel the application sees.
 *
 * Receiving is `resume()` and `pause()` of the socket, which with `onread` start and stop the
 * handle's reads directly. Writes go straight to the socket, which keeps them in order; node:net
 * calls back once per write, in order, so each callback is that write's bytes taken (WRITE-3).
 */
export class NetTransport implements ChannelTransport, PoolReader {
  readonly channel: ChannelCore;
  readonly #loop: NetEventLoop;
  #socket!: Socket;
  /** A Unix domain socket (LIFE-20), not TCP. */
  #unix = false;

  /** The class the next read lands in: the sizer's choice after the last read (SIZER-1). */
  #nextClass = 0;
  /** The sizer failed when asked for the next read; reported when reading would start (SIZER-3). */
  #sizerError: IoleaseError | undefined;
  /** Whether the socket reads (between resume() and pause(), or a read callback returning false). */
  #socketReading = false;
  /** The class this connection is registered as reading into, or -1. */
  #readClass = -1;
  #waitingClass = -1;
  /** Inside node:net's read callback, whose return value says whether the socket reads on. */
  #inReadCallback = false;

  #localAddress: SocketAddress | undefined;
  #remoteAddress: SocketAddress | undefined;

  constructor(loop: NetEventLoop, id: number, init: ChannelSettings, connecting: boolean) {
    this.#loop = loop;
    this.channel = new ChannelCore({
      ...init,
      id,
      connecting,
      pool: loop.pool,
      loop: loop.core,
      transport: () => this,
    });
    // node:net asks for the first read's buffer as soon as the socket exists, so the sizer is
    // asked now.
    this.#setNextClass(this.channel.preferredClass());
  }

  /** The `onread` options for this connection's socket: every read lands in the pool. */
  get onread(): { buffer: () => Uint8Array; callback: (bytesRead: number, buffer: Uint8Array) => boolean } {
    return {
      buffer: () => this.#loop.pool.landing(this.#nextClass),
      callback: (bytesRead) => this.#onData(bytesRead),
    };
  }

  /** Binds the socket; a client's until its connect completes (onConnected). */
  attach(socket: Socket, unix?: { local: string; remote: string }): void {
    this.#socket = socket;
    this.#unix = unix !== undefined;
    if (unix !== undefined) {
      // node:net reports no addresses for Unix sockets: the path is the listener's or the
      // connect's, and the other end is unnamed (LIFE-20).
      this.#localAddress = { family: 'Unix', address: unix.local, port: 0 };
      this.#remoteAddress = { family: 'Unix', address: unix.remote, port: 0 };
    }
    if (!this.channel.connecting) this.#captureAddresses();
    socket.on('end', () => this.channel.ended());
    socket.on('error', (error) => {
      // A failed connect reaches the caller as the rejected promise, not as callbacks.
      if (this.channel.connecting) this.channel.connectFailed(fromNodeError(error, 'connect'));
      else this.channel.fail(fromNodeError(error, 'read'));
    });
    socket.on('close', () => this.#closed());
  }

  /** The client connection is up: reading may start. */
  onConnected(): void {
    this.#captureAddresses();
    this.channel.connected();
  }

  // ---- Asked by the core -----------------------------------------------------------------

  receive(): void {
    if (this.#inReadCallback || this.#readClass >= 0 || this.#waitingClass >= 0) return;
    if (this.#sizerError !== undefined) {
      this.channel.fail(this.#sizerError, false);
      this.#sizerError = undefined;
      return;
    }
    const pool = this.#loop.pool;
    if (!pool.hasFree(this.#nextClass)) {
      this.#waitingClass = this.#nextClass;
      pool.wait(this, this.#nextClass);
      return;
    }
    pool.setReading(this, -1, this.#nextClass);
    this.#readClass = this.#nextClass;
    if (!this.#socketReading) {
      this.#socketReading = true;
      this.#socket.resume();
    }
  }

  stopReceiving(): void {
    if (this.#inReadCallback) return;
    this.#forgetReading();
    if (this.#socketReading) {
      this.#socketReading = false;
      this.#socket.pause();
    }
  }

  /** Hands a write to node:net; an array goes out as one writev (cork/uncork), one callback. */
  send(write: PendingWrite): void {
    const socket = this.#socket;
    const done = (error?: Error | null) => {
      // Failed: the socket is being destroyed, and the channel with it (a close of ours, if
      // the channel is closed already).
      if (error) this.channel.fail(fromNodeError(error, 'write'));
      else this.channel.sent(write.length);
    };
    this.#loop.core.countSubmission();
    const data = write.data;
    if (data instanceof Uint8Array) {
      socket.write(kept(data), done);
      return;
    }
    const parts = data.filter((part) => part.byteLength > 0);
    socket.cork();
    for (let i = 0; i < parts.length; i++) {
      const part = kept(parts[i] as Uint8Array);
      if (i === parts.length - 1) socket.write(part, done);
      else socket.write(part);
    }
    socket.uncork();
  }

  shutdown(): IoleaseError | undefined {
    this.#socket.end();
    return undefined;
  }

  close(abortive: boolean): void {
    this.#forgetReading();
    this.#socketReading = false;
    // A Unix socket has no abortive close (node:net refuses resetAndDestroy() on one): closed.
    if (abortive && !this.channel.connecting && !this.#unix) this.#socket.resetAndDestroy();
    else this.#socket.destroy();
  }

  setNoDelay(noDelay: boolean): void {
    this.#socket.setNoDelay(noDelay);
  }

  setKeepAlive(enable: boolean, delaySeconds: number): void {
    this.#socket.setKeepAlive(enable, delaySeconds * 1000);
  }

  setReferenced(referenced: boolean): void {
    if (referenced) this.#socket.ref();
    else this.#socket.unref();
  }

  /** Taken at accept (attach) or connect (onConnected); none before a connection exists. */
  address(peer: boolean): SocketAddress {
    return (peer ? this.#remoteAddress : this.#localAddress) ?? toAddress(undefined, undefined, undefined);
  }

  // ---- Called by the pool ----------------------------------------------------------------

  stopForPressure(): void {
    this.#waitingClass = this.#readClass;
    this.#readClass = -1;
    if (this.#socketReading) {
      this.#socketReading = false;
      this.#socket.pause();
    }
  }

  resumeAfterPressure(): void {
    this.#waitingClass = -1;
    this.channel.update(true);
  }

  // ---- Internals ---------------------------------------------------------------------------

  /**
   * Reads the connection's addresses once it is accepted or connected: node:net forgets them once
   * the socket is destroyed (LIFE-13).
   */
  #captureAddresses(): void {
    if (this.#remoteAddress !== undefined) return;
    const socket = this.#socket;
    this.#localAddress = toAddress(socket.localAddress, socket.localPort, socket.localFamily);
    this.#remoteAddress = toAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  }

  #forgetReading(): void {
    const pool = this.#loop.pool;
    if (this.#readClass >= 0) pool.setReading(this, this.#readClass, -1);
    this.#readClass = -1;
    if (this.#waitingClass >= 0) pool.forget(this, this.#waitingClass);
    this.#waitingClass = -1;
  }

  #setNextClass(next: number | IoleaseError): void {
    if (next instanceof IoleaseError) this.#sizerError = next;
    else this.#nextClass = next;
  }

  /**
   * node:net's onread callback: `bytesRead` bytes landed in the class's landing buffer. Moves them
   * into a pool buffer for the core to deliver or hold, and returns whether the socket reads on.
   */
  #onData(bytesRead: number): boolean {
    const pool = this.#loop.pool;
    const cls = this.#nextClass;
    // Not a reader while the bytes move: taking the class's last buffer must not stop us twice.
    if (this.#readClass >= 0) pool.setReading(this, this.#readClass, -1);
    this.#readClass = -1;
    if (!pool.hasFree(cls)) {
      // The pool stops every reader before its class runs dry, so this cannot happen; if it
      // did, failing loudly beats dropping bytes (PRESS-2).
      this.channel.fail(new IoleaseError(ErrorCode.INVALID_STATE, `internal: a read landed in exhausted class ${cls}`));
      return false;
    }
    const { bufferId, view } = pool.take(cls, bytesRead);
    this.#inReadCallback = true;
    try {
      this.channel.received(cls, bufferId, view);
      if (this.channel.state === 'open') this.#setNextClass(this.channel.preferredClass());
      if (this.#sizerError !== undefined) this.channel.fail(this.#sizerError);
    } finally {
      this.#inReadCallback = false;
    }
    return this.#continueReading();
  }

  /** After a read: keep the socket reading into the next class, or stop it (node:net stops on false). */
  #continueReading(): boolean {
    if (!this.channel.wantsReceive) {
      this.#socketReading = false;
      return false;
    }
    const pool = this.#loop.pool;
    if (!pool.hasFree(this.#nextClass)) {
      this.#socketReading = false;
      this.#waitingClass = this.#nextClass;
      pool.wait(this, this.#nextClass);
      return false;
    }
    pool.setReading(this, -1, this.#nextClass);
    this.#readClass = this.#nextClass;
    return true;
  }

  /** node:net closed the socket: nothing references the connection's memory any more (LIFE-7). */
  #closed(): void {
    if (this.channel.finalized) return;
    this.#forgetReading();
    this.#socketReading = false;
    this.channel.finalize();
    this.#loop.channelFinalized(this);
  }
}

function toAddress(address: string | undefined, port: number | undefined, family: string | undefined): SocketAddress {
  return {
    family: family === 'IPv6' ? 'IPv6' : 'IPv4',
    address: address ?? '',
    port: port ?? 0,
  };
}

/**
 * What node:net may keep: libuv sends what the socket does not take at once from the same
 * address later, after JavaScript ran, so memory the application could detach or free meanwhile
 * is copied (WRITE-12). Memory marked untransferable is not: the pool's buffers (held by the
 * pool and pinned until the write completes) and Node's own Buffer pool.
 */
function kept(chunk: Uint8Array): Uint8Array {
  return isMarkedAsUntransferable(chunk.buffer) ? chunk : Buffer.from(chunk);
}
