import type { Socket } from 'node:net';
import { isMarkedAsUntransferable } from 'node:worker_threads';
import {
  ChannelLeases,
  channelClosedError,
  PooledLease,
  reportChannelError,
  reportUncaught,
  snapshotWrite,
  Writability,
  writeAfterEndError,
} from '@iolease/backend-core';
import {
  type Channel,
  type ChannelHandler,
  type ChannelState,
  ErrorCode,
  IoleaseError,
  type RecvByteBufferSizer,
  type SocketAddress,
  validateBoolean,
  validateInteger,
  validateObject,
  validateWrite,
  type WaterMarks,
  type WriteCompletionCallback,
  type WriteData,
} from '@iolease/interfaces';
import { fromNodeError } from '../errors.js';
import type { NetEventLoop } from './loop.js';
import type { PoolReader } from './pool.js';

export interface NetChannelInit {
  readonly sizer: RecvByteBufferSizer;
  readonly autoRead: boolean;
  readonly waterMarks: WaterMarks;
  /** The most buffers the channel holds before it stops reading (PRESS-9). */
  readonly maxLeases: number;
}

/** One write from write() to its completion (spec §8). */
interface PendingWrite {
  readonly length: number;
  readonly onComplete: WriteCompletionCallback | undefined;
  /** node:net called back (or nothing was to be sent). */
  done: boolean;
  /** Counted in pendingWriteBytes (WATER-2): writes refused at write() time never are. */
  counted: boolean;
  /** What node:net reported, or the reason the write was never sent (WRITE-10). */
  error: IoleaseError | undefined;
  /** The pool buffers node:net sends from, pinned until the completion (LEASE-2). */
  pins: number[] | undefined;
}

/**
 * One TCP connection on the node:net backend: a `net.Socket` whose `onread` lands every read
 * in the loop's pool (see NetBufferPool) and whose write callbacks are the write completions.
 *
 * Reading follows spec §6 and §7 with `pause()`/`resume()` of the socket, which with `onread`
 * stop and start the handle's reads directly. Writes go straight to the socket (node:net keeps
 * them in order); completions run in write() order once node:net confirms each (WRITE-3, WRITE-4).
 */
export class NetChannel implements Channel, PoolReader {
  readonly id: number;
  readonly sizer: RecvByteBufferSizer;
  readonly #loop: NetEventLoop;
  #socket!: Socket;
  #handler: ChannelHandler | undefined;
  #state: ChannelState = 'open';
  #connecting = false;

  // Reading
  #autoRead: boolean;
  #readRequested = false;
  /** The class the next read lands in: the sizer's choice after the last read (SIZER-1). */
  #nextClass = 0;
  /** Whether the socket reads (between resume() and pause(), or a read callback returning false). */
  #socketReading = false;
  /** The class this channel is registered as reading into, or -1. */
  #readClass = -1;
  #waitingClass = -1;
  #inReadCallback = false;
  #sizerFailed = false;
  #eof = false;
  #inputEnded = false;
  readonly #held: PooledLease[] = [];
  /** The buffers this channel holds, and its leases' owner (PRESS-9). */
  readonly #leases: ChannelLeases;
  #heldDeliveryScheduled = false;

  // Writing
  readonly #writes: PendingWrite[] = [];
  readonly #writability: Writability;
  #outputEnded = false;
  #settleScheduled = false;

  // Closing
  #failure: IoleaseError | undefined;
  #finalized = false;

  #localAddress: SocketAddress | undefined;
  /** A Unix domain socket (LIFE-20), not TCP. */
  #unix = false;
  #remoteAddress: SocketAddress | undefined;

  constructor(loop: NetEventLoop, id: number, init: NetChannelInit) {
    this.#loop = loop;
    this.id = id;
    this.sizer = init.sizer;
    this.#autoRead = init.autoRead;
    this.#leases = new ChannelLeases(loop.pool, init.maxLeases, () => {
      if (this.#state === 'open') this.#updateReading(false);
    });
    this.#writability = new Writability({
      marks: init.waterMarks,
      defer: (task) => this.#loop.defer(task),
      isOpen: () => this.#state === 'open',
      notify: (writable) => {
        try {
          this.#handler?.onWritabilityChanged?.(this, writable);
        } catch (error) {
          reportUncaught(error);
        }
      },
    });
    // node:net asks for the first read's buffer as soon as the socket exists, so the sizer is
    // asked now; a failure is reported when reading would start, as for any read (SIZER-3).
    const next = this.#nextReadClass();
    this.#nextClass = next ?? 0;
    this.#sizerFailed = next === undefined;
  }

  /** The `onread` options for this channel's socket: every read lands in the pool. */
  get onread(): { buffer: () => Uint8Array; callback: (bytesRead: number, buffer: Uint8Array) => boolean } {
    return {
      buffer: () => this.#loop.pool.landing(this.#nextClass),
      callback: (bytesRead) => this.#onData(bytesRead),
    };
  }

  /** Binds the socket; `connecting` until onConnected() for client channels. */
  attach(socket: Socket, connecting: boolean, unix?: { local: string; remote: string }): void {
    this.#socket = socket;
    this.#connecting = connecting;
    this.#unix = unix !== undefined;
    if (unix !== undefined) {
      // node:net reports no addresses for Unix sockets: the path is the listener's or the
      // connect's, and the other end is unnamed (LIFE-20).
      this.#localAddress = { family: 'Unix', address: unix.local, port: 0 };
      this.#remoteAddress = { family: 'Unix', address: unix.remote, port: 0 };
    }
    if (!connecting) this.#captureAddresses();
    socket.on('end', () => {
      this.#eof = true;
      this.#updateReading(true);
    });
    socket.on('error', (error) => {
      // A failed connect reaches the caller as the rejected promise, not as callbacks.
      if (this.#connecting) this.#connectFailed(fromNodeError(error, 'connect'));
      else this.#fail(fromNodeError(error, 'read'));
    });
    socket.on('close', () => this.#finalize());
  }

  get state(): ChannelState {
    return this.#state;
  }
  get inputEnded(): boolean {
    return this.#inputEnded;
  }
  get outputEnded(): boolean {
    return this.#outputEnded;
  }
  get writable(): boolean {
    return this.#writability.writable;
  }
  get pendingWriteBytes(): number {
    return this.#writability.pendingBytes;
  }
  get autoRead(): boolean {
    return this.#autoRead;
  }
  get localAddress(): SocketAddress {
    this.#captureAddresses();
    return this.#localAddress as SocketAddress;
  }
  get remoteAddress(): SocketAddress {
    this.#captureAddresses();
    return this.#remoteAddress as SocketAddress;
  }

  /**
   * Reads the connection's addresses once it is accepted or connected: node:net forgets them once
   * the socket is destroyed, so read later (in onClose, after a reset) they would be empty
   * (LIFE-13).
   */
  #captureAddresses(): void {
    if (this.#remoteAddress !== undefined) return;
    const socket = this.#socket;
    this.#localAddress = toAddress(socket.localAddress, socket.localPort, socket.localFamily);
    this.#remoteAddress = toAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  }

  setHandler(handler: ChannelHandler): void {
    validateObject('handler', handler);
    if (this.#state === 'closed') {
      throw new IoleaseError(ErrorCode.INVALID_STATE, `setHandler on closed channel ${this.id}`);
    }
    this.#handler = handler;
    this.#updateReading(false);
  }

  setAutoRead(autoRead: boolean): void {
    validateBoolean('autoRead', autoRead);
    if (this.#autoRead === autoRead) return;
    this.#autoRead = autoRead;
    this.#updateReading(false);
  }

  read(): void {
    if (this.#autoRead || this.#readRequested || this.#state === 'closed') return;
    this.#readRequested = true;
    this.#updateReading(false);
  }

  write(data: WriteData, onComplete?: WriteCompletionCallback): boolean {
    const length = validateWrite(data, onComplete);
    const write: PendingWrite = { length, onComplete, done: false, counted: false, error: undefined, pins: undefined };
    if (this.#state === 'closed') write.error = channelClosedError();
    else if (this.#outputEnded) write.error = writeAfterEndError();
    this.#writes.push(write);
    if (write.error !== undefined || length === 0) {
      write.done = true;
      this.#scheduleSettle();
      return this.#writability.writable;
    }
    write.counted = true;
    this.#writability.add(length);
    // The views and lengths as they are now (WRITE-12), pool buffers pinned (LEASE-10).
    const chunks = snapshotWrite(data);
    write.pins = this.#loop.pool.pins.pin(chunks);
    this.#send(write, nodeOwned(chunks));
    return this.#writability.writable;
  }

  shutdown(): void {
    if (this.#outputEnded || this.#state === 'closed') return;
    this.#outputEnded = true;
    this.#writability.end();
    // node:net sends FIN after every write queued before end() (LIFE-4).
    this.#socket.end();
  }

  close(): void {
    this.#beginClose(false, undefined);
  }

  reset(): void {
    this.#beginClose(true, undefined);
  }

  setWaterMarks(marks: WaterMarks): void {
    this.#writability.setMarks(marks);
  }

  setNoDelay(noDelay: boolean): void {
    validateBoolean('noDelay', noDelay);
    if (this.#state === 'open') this.#socket.setNoDelay(noDelay);
  }

  setKeepAlive(enable: boolean, initialDelayMs = 0): void {
    validateBoolean('enable', enable);
    validateInteger('initialDelayMs', initialDelayMs, 0, 2 ** 31 - 1);
    // Whole seconds, rounded up as on io_uring (LIFE-18): node:net would round down.
    if (this.#state === 'open') this.#socket.setKeepAlive(enable, Math.ceil(initialDelayMs / 1000) * 1000);
  }

  unref(): this {
    if (this.#state === 'open') this.#socket.unref();
    return this;
  }

  ref(): this {
    if (this.#state === 'open') this.#socket.ref();
    return this;
  }

  // ---- Called by the loop and the pool ----------------------------------------------------

  /** The client connection is up: reading may start. */
  onConnected(): void {
    this.#connecting = false;
    this.#captureAddresses();
    this.#updateReading(true);
  }

  /** The connect failed: the channel closes without callbacks; onFinalized learns of it. */
  #connectFailed(error: IoleaseError): void {
    this.#handler = undefined;
    this.#beginClose(false, error);
  }

  /** The error that closed the channel, if any. */
  get failure(): IoleaseError | undefined {
    return this.#failure;
  }

  /** Closes as part of loop teardown, with an error for pending writes. */
  abort(error: IoleaseError | undefined): void {
    // Still connecting: the caller learns of it from the rejected promise, with no callbacks.
    if (this.#connecting) this.#handler = undefined;
    this.#beginClose(false, error);
  }

  stopForPressure(): void {
    this.#waitingClass = this.#readClass;
    this.#readClass = -1;
    this.#pauseSocket();
  }

  resumeAfterPressure(): void {
    this.#waitingClass = -1;
    this.#updateReading(true);
  }

  // ---- Reading ---------------------------------------------------------------------------

  #wantsReceive(): boolean {
    return (
      this.#state === 'open' &&
      !this.#connecting &&
      this.#handler !== undefined &&
      !this.#eof &&
      this.#leases.belowMax &&
      this.#held.length === 0 &&
      (this.#autoRead || this.#readRequested)
    );
  }

  #wantsDelivery(): boolean {
    return this.#state === 'open' && this.#handler !== undefined && (this.#autoRead || this.#readRequested);
  }

  /**
   * Brings reading in line with what the channel wants (READ-1..5): deliver held data, start
   * or stop the socket. `inLoop` says whether callbacks may run now (false inside an API call).
   */
  #updateReading(inLoop: boolean): void {
    if (this.#state !== 'open' || this.#connecting || this.#inReadCallback) return;
    if ((this.#held.length > 0 || this.#eofPendingDelivery()) && this.#wantsDelivery()) {
      if (inLoop) this.#deliverHeld();
      else this.#scheduleHeldDelivery();
      if (this.#held.length > 0) return;
    }
    if (this.#wantsReceive()) {
      if (this.#sizerFailed) {
        this.#sizerFailed = false;
        const fail = () => this.#fail(sizerError(this.id, 'threw or returned a bad size'));
        if (inLoop) fail();
        else this.#loop.defer(fail);
        return;
      }
      if (this.#readClass >= 0 || this.#waitingClass >= 0) return;
      const pool = this.#loop.pool;
      if (pool.hasFree(this.#nextClass)) {
        pool.setReading(this, -1, this.#nextClass);
        this.#readClass = this.#nextClass;
        if (!this.#socketReading) {
          this.#socketReading = true;
          this.#socket.resume();
        }
      } else {
        this.#waitingClass = this.#nextClass;
        pool.wait(this, this.#nextClass);
      }
      return;
    }
    if (this.#readClass >= 0) {
      this.#loop.pool.setReading(this, this.#readClass, -1);
      this.#readClass = -1;
    }
    this.#pauseSocket();
    if (this.#waitingClass >= 0) {
      this.#loop.pool.forget(this, this.#waitingClass);
      this.#waitingClass = -1;
    }
  }

  #pauseSocket(): void {
    if (!this.#socketReading) return;
    this.#socketReading = false;
    this.#socket.pause();
  }

  /**
   * node:net's onread callback: `bytesRead` bytes landed in the class's landing buffer. Moves them
   * into a pool buffer, delivers or holds the lease, and returns whether the socket reads on.
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
      this.#fail(new IoleaseError(ErrorCode.INVALID_STATE, `internal: a read landed in exhausted class ${cls}`));
      return false;
    }
    const { bufferId, view } = pool.take(cls, bytesRead);
    const capacity = pool.classSize(cls);
    this.#leases.taken();
    const lease = new PooledLease({
      owner: this.#leases,
      id: this.#loop.nextLeaseId(),
      classIndex: cls,
      bufferId,
      view,
      sizeClass: capacity,
      tracker: this.#loop.leaks,
    });
    this.#inReadCallback = true;
    try {
      if (this.#state !== 'open') {
        lease.release();
        return false;
      }
      this.#loop.leaks?.track(lease, this.id);
      try {
        this.sizer.record(bytesRead, capacity);
      } catch (cause) {
        lease.release();
        this.#fail(sizerError(this.id, 'threw', cause));
        return false;
      }
      if (this.#held.length > 0 || !this.#wantsDelivery()) {
        this.#held.push(lease);
        this.#loop.pool.hold(lease.sizeClass, 1);
      } else {
        this.#readRequested = false;
        this.#callOnRead(lease);
      }
      const next = this.#nextReadClass();
      if (next === undefined) {
        this.#fail(sizerError(this.id, 'threw or returned a bad size'));
        return false;
      }
      this.#nextClass = next;
    } finally {
      this.#inReadCallback = false;
    }
    return this.#continueReading();
  }

  /** After a read: keep the socket reading into the next class, or stop it (node:net stops on false). */
  #continueReading(): boolean {
    if (!this.#wantsReceive()) {
      this.#socketReading = false;
      if (this.#state === 'open' && this.#held.length > 0 && this.#wantsDelivery()) this.#scheduleHeldDelivery();
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

  /** POOL-3 for the sizer's next preference; undefined when the sizer misbehaves (SIZER-3). */
  #nextReadClass(): number | undefined {
    let preferred: number;
    try {
      preferred = this.sizer.nextReadSize();
    } catch {
      return undefined;
    }
    if (!Number.isSafeInteger(preferred) || preferred <= 0) return undefined;
    return this.#loop.pool.classIndexFor(preferred);
  }

  #eofPendingDelivery(): boolean {
    return this.#eof && !this.#inputEnded;
  }

  #scheduleHeldDelivery(): void {
    if (this.#heldDeliveryScheduled) return;
    this.#heldDeliveryScheduled = true;
    this.#loop.defer(() => {
      this.#heldDeliveryScheduled = false;
      this.#updateReading(true);
    });
  }

  /** Delivers held data in order while delivery is wanted, then the EOF (READ-2, READ-5, READ-6). */
  #deliverHeld(): void {
    while (this.#held.length > 0 && this.#wantsDelivery()) {
      const lease = this.#held.shift() as PooledLease;
      this.#loop.pool.hold(lease.sizeClass, -1);
      this.#readRequested = false;
      this.#callOnRead(lease);
    }
    if (this.#held.length === 0 && this.#eofPendingDelivery() && this.#wantsDelivery()) {
      this.#inputEnded = true;
      this.#readRequested = false;
      try {
        this.#handler?.onEnd?.(this);
      } catch (error) {
        reportUncaught(error);
      }
    }
  }

  #callOnRead(lease: PooledLease): void {
    const handler = this.#handler;
    try {
      if (handler?.onRead !== undefined) handler.onRead(this, lease);
      else lease.release(); // a handler without onRead does not want the bytes
    } catch (error) {
      reportUncaught(error);
    }
  }

  // ---- Writing ---------------------------------------------------------------------------

  /** Hands a write to node:net; an array goes out as one writev (cork/uncork), one callback. */
  #send(write: PendingWrite, data: WriteData): void {
    const socket = this.#socket;
    const done = (error?: Error | null) => this.#onWritten(write, error);
    this.#loop.countSubmit();
    if (data instanceof Uint8Array) {
      socket.write(data, done);
      return;
    }
    const parts = data.filter((part) => part.byteLength > 0);
    socket.cork();
    for (let i = 0; i < parts.length; i++) {
      if (i === parts.length - 1) socket.write(parts[i] as Uint8Array, done);
      else socket.write(parts[i] as Uint8Array);
    }
    socket.uncork();
  }

  #onWritten(write: PendingWrite, error: Error | null | undefined): void {
    if (write.done) return; // completed already, by close
    write.done = true;
    if (error)
      write.error = this.#failure ?? (this.#state === 'closed' ? channelClosedError() : fromNodeError(error, 'write'));
    this.#settle();
  }

  #scheduleSettle(): void {
    if (this.#settleScheduled) return;
    this.#settleScheduled = true;
    this.#loop.defer(() => {
      this.#settleScheduled = false;
      this.#settle();
    });
  }

  /** Completes the writes at the front that node:net is done with, in write() order (WRITE-4). */
  #settle(): void {
    while (this.#writes.length > 0 && (this.#writes[0] as PendingWrite).done) {
      this.#completeHead();
    }
  }

  /** Completes the front write (WRITE-3): counters first, then the callback, then writability. */
  #completeHead(): void {
    const w = this.#writes.shift() as PendingWrite;
    // node:net is done with the write's memory (WRITE-7): buffers released meanwhile go back.
    if (w.pins !== undefined) this.#loop.pool.pins.unpin(w.pins);
    const sent = w.error === undefined;
    if (w.counted) this.#writability.remove(w.length);
    this.#loop.countWrite(sent ? w.length : 0);
    if (w.onComplete !== undefined) {
      try {
        w.onComplete(w.error, sent ? w.length : 0);
      } catch (e) {
        reportUncaught(e);
      }
    }
    this.#writability.settle();
  }

  /** Deferred: writability changes inside write() and completions (LOOP-2, WATER-4). */

  // ---- Closing ---------------------------------------------------------------------------

  #fail(error: IoleaseError): void {
    if (this.#state === 'closed') return;
    reportChannelError(this.#handler, this, error);
    this.#beginClose(false, error);
  }

  #beginClose(abortive: boolean, error: IoleaseError | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#writability.end();
    this.#failure = error;
    this.#socketReading = false;
    if (this.#readClass >= 0) this.#loop.pool.setReading(this, this.#readClass, -1);
    this.#readClass = -1;
    if (this.#waitingClass >= 0) this.#loop.pool.forget(this, this.#waitingClass);
    this.#waitingClass = -1;
    // A Unix socket has no abortive close (node:net refuses resetAndDestroy() on one): closed.
    if (abortive && !this.#connecting && !this.#unix) this.#socket.resetAndDestroy();
    else this.#socket.destroy();
  }

  /** node:net closed the socket: nothing references the channel's memory any more (LIFE-7). */
  #finalize(): void {
    if (this.#finalized) return;
    if (this.#state === 'open') {
      // Closed under us (the peer's reset arrives as 'error' first; this is the rest).
      this.#state = 'closed';
      this.#writability.end();
      if (this.#readClass >= 0) this.#loop.pool.setReading(this, this.#readClass, -1);
      if (this.#waitingClass >= 0) this.#loop.pool.forget(this, this.#waitingClass);
    }
    this.#finalized = true;
    const failure = this.#failure ?? channelClosedError();
    // Writes node:net never confirmed fail; confirmed ones keep their result (WRITE-9, WRITE-3).
    for (const w of this.#writes) {
      if (w.done) continue;
      w.error = failure;
      w.done = true;
    }
    this.#settle();
    for (const lease of this.#held.splice(0)) {
      this.#loop.pool.hold(lease.sizeClass, -1);
      lease.release();
    }
    this.#loop.channelFinalized(this);
    const handler = this.#handler;
    // Through the deferred queue, so it follows any callback already deferred (LIFE-12).
    this.#loop.defer(() => {
      try {
        handler?.onClose?.(this);
      } catch (error) {
        reportUncaught(error);
      }
    });
  }
}

function sizerError(id: number, what: string, cause?: unknown): IoleaseError {
  return new IoleaseError(
    ErrorCode.INVALID_SIZER,
    `The sizer of channel ${id} ${what}; nextReadSize() must return a positive safe integer (SIZER-3)`,
    { cause },
  );
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
function nodeOwned(chunks: Uint8Array | Uint8Array[]): Uint8Array | Uint8Array[] {
  if (chunks instanceof Uint8Array) return kept(chunks);
  return chunks.map(kept);
}

function kept(chunk: Uint8Array): Uint8Array {
  return isMarkedAsUntransferable(chunk.buffer) ? chunk : Buffer.from(chunk);
}
