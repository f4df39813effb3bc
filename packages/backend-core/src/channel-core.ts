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
import type { ChannelCoreInit, ChannelCoreLoop, ChannelCorePool, ChannelTransport } from './channel-transport.js';
import { channelClosedError, writeAfterEndError } from './errors.js';
import { ChannelLeases, PooledLease } from './pooled-lease.js';
import { reportChannelError, reportUncaught } from './uncaught.js';
import { Writability } from './writability.js';
import { type PendingWrite, WriteQueue, writeDone } from './write-queue.js';
import { snapshotWrite } from './write-snapshot.js';

/**
 * The longest idle time before keep-alive probes that Linux accepts (`MAX_TCP_KEEPIDLE`, in
 * seconds; a longer one is refused with EINVAL). Longer delays wait this long (LIFE-18).
 */
const MAX_KEEPALIVE_IDLE_SECONDS = 32767;

/**
 * One connection's state machine, the same for every backend: read interest and held data
 * (spec §6), leases and the sizer (§4, §5), pressure limits (PRESS-9), the write queue and its
 * completion order (§8), writability (§9) and close sequencing (§10). It is the {@link Channel}
 * the application sees; the backend's {@link ChannelTransport} does the I/O it asks for and
 * reports back through the methods under "For the transport".
 *
 * Callbacks into the application run only from the loop's turn, never inside the API call that
 * caused them (LOOP-2); what one throws is reported as uncaught and the channel goes on (LOOP-5).
 *
 * @since 0.2.0
 */
export class ChannelCore implements Channel {
  readonly id: number;
  readonly sizer: RecvByteBufferSizer;
  readonly #transport: ChannelTransport;
  readonly #pool: ChannelCorePool;
  readonly #loop: ChannelCoreLoop;
  #handler: ChannelHandler | undefined;
  #state: ChannelState = 'open';
  #connecting: boolean;
  #finalized = false;
  #failure: IoleaseError | undefined;

  // Reading (§6)
  #autoRead: boolean;
  #readRequested = false;
  #eof = false;
  #inputEnded = false;
  /** Received while the application did not want data: delivered, in order, when it does (READ-2). */
  readonly #held: PooledLease[] = [];
  readonly #leases: ChannelLeases;
  #updateScheduled = false;

  // Writing (§8, §9)
  readonly #writes = new WriteQueue();
  readonly #writability: Writability;
  #outputEnded = false;
  #shutdownDone = false;
  #settleScheduled = false;

  #localAddress: SocketAddress | undefined;
  #remoteAddress: SocketAddress | undefined;

  constructor(init: ChannelCoreInit) {
    this.id = init.id;
    this.sizer = init.sizer;
    this.#autoRead = init.autoRead;
    this.#connecting = init.connecting;
    this.#pool = init.pool;
    this.#loop = init.loop;
    this.#leases = new ChannelLeases(init.pool, init.maxLeases, () => {
      if (this.#state === 'open') this.update(false);
    });
    this.#writability = new Writability({
      marks: init.waterMarks,
      defer: (task) => this.#loop.defer(task),
      isOpen: () => this.#state === 'open',
      notify: (writable) => this.#call(() => this.#handler?.onWritabilityChanged?.(this, writable)),
    });
    this.#transport = init.transport(this);
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
    return this.#localAddress ?? this.#address(false);
  }
  get remoteAddress(): SocketAddress {
    return this.#remoteAddress ?? this.#address(true);
  }

  /** Asks the transport; kept once the connection is up, since the transport may forget (LIFE-13). */
  #address(peer: boolean): SocketAddress {
    const address = this.#transport.address(peer);
    if (!this.#connecting) {
      if (peer) this.#remoteAddress = address;
      else this.#localAddress = address;
    }
    return address;
  }

  setHandler(handler: ChannelHandler): void {
    validateObject('handler', handler);
    if (this.#state === 'closed') {
      throw new IoleaseError(ErrorCode.INVALID_STATE, `setHandler on closed channel ${this.id}`);
    }
    this.#handler = handler;
    this.update(false);
  }

  setAutoRead(autoRead: boolean): void {
    validateBoolean('autoRead', autoRead);
    if (this.#autoRead === autoRead) return;
    this.#autoRead = autoRead;
    this.update(false);
  }

  read(): void {
    if (this.#autoRead || this.#readRequested || this.#state === 'closed') return;
    this.#readRequested = true;
    this.update(false);
  }

  write(data: WriteData, onComplete?: WriteCompletionCallback): boolean {
    const length = validateWrite(data, onComplete);
    // The views and lengths as they are now (WRITE-12): the caller may change its array, or a
    // length-tracking view may change length, before the system reads them.
    const chunks = snapshotWrite(data);
    const error =
      this.#state === 'closed' ? channelClosedError() : this.#outputEnded ? writeAfterEndError() : undefined;
    const counted = error === undefined;
    const pins = counted ? this.#pool.pins?.pin(chunks) : undefined;
    const write: PendingWrite = { data: chunks, length, onComplete, written: 0, error, counted, pins };
    this.#writes.push(write);
    if (counted) this.#writability.add(length);
    // A write that sends nothing completes in its turn (WRITE-4), but never inside write() (LOOP-2).
    if (writeDone(write)) this.#scheduleSettle();
    else this.#transport.send(write);
    return this.#writability.writable;
  }

  shutdown(): void {
    if (this.#outputEnded || this.#state === 'closed') return;
    this.#outputEnded = true;
    this.#writability.end();
    this.#maybeShutdown(false);
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
    if (this.#state === 'open') this.#transport.setNoDelay(noDelay);
  }

  setKeepAlive(enable: boolean, initialDelayMs = 0): void {
    validateBoolean('enable', enable);
    validateInteger('initialDelayMs', initialDelayMs, 0, 2 ** 31 - 1);
    // Whole seconds, rounded up (LIFE-18): TCP_KEEPIDLE counts seconds, up to Linux's limit.
    const seconds = Math.min(Math.ceil(initialDelayMs / 1000), MAX_KEEPALIVE_IDLE_SECONDS);
    if (this.#state === 'open') this.#transport.setKeepAlive(enable, seconds);
  }

  unref(): this {
    if (this.#state === 'open') this.#transport.setReferenced(false);
    return this;
  }

  ref(): this {
    if (this.#state === 'open') this.#transport.setReferenced(true);
    return this;
  }

  // ---- For the transport -----------------------------------------------------------------

  /** Whether the client connection is still being set up. */
  get connecting(): boolean {
    return this.#connecting;
  }

  /** Whether the channel finalized (LIFE-7): nothing of it is in the system any more. */
  get finalized(): boolean {
    return this.#finalized;
  }

  /** The error that closed the channel, if one did (LIFE-8). */
  get failure(): IoleaseError | undefined {
    return this.#failure;
  }

  /** The pending writes, oldest first: a transport that sends from the queue builds sends here. */
  get writes(): WriteQueue {
    return this.#writes;
  }

  /**
   * Whether receiving is wanted now (READ-1..5, PRESS-9): open and connected, a handler, no end
   * of stream yet, below `maxLeases`, nothing held, and reading on or requested.
   */
  get wantsReceive(): boolean {
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

  /**
   * The class the next receive should use: the sizer's preference mapped to the pool (SIZER-1,
   * POOL-3), or the `ERR_IOLEASE_INVALID_SIZER` error when the sizer threw or returned no
   * positive safe integer (SIZER-3); the transport then fails the channel with it.
   */
  preferredClass(): number | IoleaseError {
    let preferred: number;
    try {
      preferred = this.sizer.nextReadSize();
    } catch (cause) {
      return sizerError(this.id, 'threw', cause);
    }
    if (!Number.isSafeInteger(preferred) || preferred <= 0) {
      return sizerError(this.id, `returned ${String(preferred)}`);
    }
    return this.#pool.classIndexFor(preferred);
  }

  /** The connect completed: reading and sending may start. */
  connected(): void {
    this.#connecting = false;
    this.update(true);
    this.#maybeShutdown(true);
  }

  /**
   * Brings reading in line with what the application wants (READ-1..5): delivers held data and
   * the end of stream, then asks the transport to receive or to stop. `inLoop` says whether
   * callbacks may run now; inside an API call (false) delivery waits for the loop's turn.
   */
  update(inLoop: boolean): void {
    if (this.#state !== 'open' || this.#connecting) return;
    if ((this.#held.length > 0 || this.#eofPending()) && this.#wantsDelivery()) {
      if (inLoop) this.#deliverHeld();
      else this.#scheduleUpdate();
      if (this.#held.length > 0) return;
    }
    if (!this.wantsReceive) this.#transport.stopReceiving();
    // A transport may report data or the end from inside receive() (one with bytes staged, say),
    // which inside an API call would run onRead there (LOOP-2): it waits for the loop's turn.
    else if (inLoop) this.#transport.receive();
    else this.#scheduleUpdate();
  }

  /**
   * The transport filled pool buffer `bufferId` of class `classIndex`; `view` holds the bytes.
   * The core makes the lease and delivers it, or holds it while the application does not want
   * data (READ-2); after a close it goes straight back to the pool (POOL-5). Call
   * {@link ChannelCore.update} afterwards, or read {@link ChannelCore.wantsReceive}.
   *
   * @param capacity - what the read could have received: the class's size, or less where the
   *   read got the rest of a buffer others' reads filled before (incremental buffers, POOL-4)
   */
  received(classIndex: number, bufferId: number, view: Uint8Array, capacity?: number): void {
    const sizeClass = this.#pool.classSize(classIndex);
    const room = capacity ?? sizeClass;
    this.#leases.taken();
    const lease = new PooledLease({
      owner: this.#leases,
      id: this.#loop.nextLeaseId(),
      classIndex,
      bufferId,
      view,
      sizeClass,
      capacity: room,
      tracker: this.#loop.leaks,
    });
    if (this.#state !== 'open') {
      lease.release(); // nobody will read it
      return;
    }
    this.#loop.leaks?.track(lease, this.id, (classIndex << 16) | bufferId);
    try {
      this.sizer.record(view.length, room);
    } catch (cause) {
      lease.release();
      this.fail(sizerError(this.id, 'threw', cause));
      return;
    }
    if (this.#held.length > 0 || !this.#wantsDelivery()) {
      this.#held.push(lease);
      this.#pool.hold(sizeClass, 1);
    } else {
      this.#readRequested = false;
      this.#callOnRead(lease);
    }
  }

  /**
   * The peer ended its output and the transport's receiving has stopped: `onEnd` follows the
   * data before it (READ-6).
   */
  ended(): void {
    this.#eof = true;
    this.update(true);
  }

  /** The system took `bytes` more of the pending writes, in order: completes the finished ones (WRITE-3). */
  sent(bytes: number): void {
    if (this.#finalized) return;
    this.#writes.credit(bytes);
    this.#settle();
  }

  /**
   * The channel failed (LIFE-8): tells the application (`onError`), then closes with `error` for
   * the pending writes. Inside an API call (`inLoop` false) it happens on the loop's turn.
   */
  fail(error: IoleaseError, inLoop = true): void {
    if (!inLoop) {
      this.#loop.defer(() => this.fail(error));
      return;
    }
    if (this.#state === 'closed') return;
    // Set before onError: a close() or reset() there must not replace the error the pending
    // writes fail with (LIFE-8, WRITE-9).
    this.#failure = error;
    reportChannelError(this.#handler, this, error);
    this.#beginClose(false, error);
  }

  /**
   * Closes without telling the application, for loop teardown and a connect given up (LIFE-10,
   * LIFE-16); a channel still connecting never calls its handler, since the caller learns of it
   * from the rejected promise.
   */
  abort(error: IoleaseError | undefined): void {
    if (this.#connecting) this.#handler = undefined;
    this.#beginClose(false, error);
  }

  /** The connect failed: closes without callbacks; the caller learns of it from the rejection. */
  connectFailed(error: IoleaseError): void {
    this.#handler = undefined;
    this.#beginClose(false, error);
  }

  /**
   * Nothing in the system refers to the connection any more (LIFE-7): fails the writes left
   * (WRITE-9), returns held buffers, and calls `onClose` after every callback already due
   * (LIFE-12). Also for a connection the system closed on its own.
   */
  finalize(): void {
    if (this.#finalized) return;
    if (this.#state === 'open') this.#markClosed(undefined);
    this.#connecting = false;
    // From here on the transport may forget the connection: keep its addresses (LIFE-13).
    this.#localAddress ??= this.#transport.address(false);
    this.#remoteAddress ??= this.#transport.address(true);
    this.#finalized = true;
    this.#writes.failUnfinished(this.#failure ?? channelClosedError());
    this.#settle();
    for (const lease of this.#held.splice(0)) {
      this.#pool.hold(lease.sizeClass, -1);
      lease.release();
    }
    const handler = this.#handler;
    this.#loop.defer(() => this.#call(() => handler?.onClose?.(this)));
  }

  // ---- Reading ---------------------------------------------------------------------------

  #wantsDelivery(): boolean {
    return this.#state === 'open' && this.#handler !== undefined && (this.#autoRead || this.#readRequested);
  }

  #eofPending(): boolean {
    return this.#eof && !this.#inputEnded;
  }

  /** {@link ChannelCore.update} on the loop's turn, once however often it is asked for. */
  #scheduleUpdate(): void {
    if (this.#updateScheduled) return;
    this.#updateScheduled = true;
    this.#loop.defer(() => {
      this.#updateScheduled = false;
      this.update(true);
    });
  }

  /** Delivers held data in order while delivery is wanted, then the end of stream (READ-2, READ-5, READ-6). */
  #deliverHeld(): void {
    while (this.#held.length > 0 && this.#wantsDelivery()) {
      const lease = this.#held.shift() as PooledLease;
      this.#pool.hold(lease.sizeClass, -1);
      this.#readRequested = false;
      this.#callOnRead(lease);
    }
    if (this.#held.length === 0 && this.#eofPending() && this.#wantsDelivery()) {
      this.#inputEnded = true;
      this.#readRequested = false;
      this.#call(() => this.#handler?.onEnd?.(this));
      this.#closeIfBothEnded();
    }
  }

  #callOnRead(lease: PooledLease): void {
    const handler = this.#handler;
    this.#call(() => {
      if (handler?.onRead !== undefined) handler.onRead(this, lease);
      else lease.release(); // a handler without onRead does not want the bytes
    });
  }

  /** Both directions are done: the channel closes by itself, as a net.Socket does (LIFE-5). */
  #closeIfBothEnded(): void {
    if (this.#state === 'open' && this.#inputEnded && this.#shutdownDone) this.#beginClose(false, undefined);
  }

  // ---- Writing ---------------------------------------------------------------------------

  #scheduleSettle(): void {
    if (this.#settleScheduled) return;
    this.#settleScheduled = true;
    this.#loop.defer(() => {
      this.#settleScheduled = false;
      this.#settle();
    });
  }

  /** Completes the finished writes at the front, in write() order (WRITE-4), then maybe sends FIN. */
  #settle(): void {
    for (let w = this.#writes.peek(); w !== undefined && writeDone(w); w = this.#writes.peek()) {
      this.#writes.shift();
      // The system is done with the write's memory (WRITE-7): buffers released meanwhile go back.
      if (w.pins !== undefined) this.#pool.pins?.unpin(w.pins);
      if (w.counted) this.#writability.remove(w.length);
      this.#loop.countWrite(w.error === undefined ? w.length : 0);
      const { onComplete, error, written } = w;
      if (onComplete !== undefined) this.#call(() => onComplete(error, written));
      this.#writability.settle();
    }
    this.#maybeShutdown(true);
  }

  /** FIN goes out once every write before `shutdown()` was taken (LIFE-4). */
  #maybeShutdown(inLoop: boolean): void {
    if (!this.#outputEnded || this.#shutdownDone || this.#connecting || this.#state !== 'open') return;
    if (this.#writes.unfinished) return;
    this.#shutdownDone = true;
    const error = this.#transport.shutdown();
    if (error !== undefined) this.fail(error, inLoop);
    else if (inLoop) this.#closeIfBothEnded();
    else this.#loop.defer(() => this.#closeIfBothEnded());
  }

  // ---- Closing ---------------------------------------------------------------------------

  #beginClose(abortive: boolean, error: IoleaseError | undefined): void {
    if (this.#state === 'closed') return;
    this.#markClosed(error);
    this.#transport.close(abortive);
  }

  #markClosed(error: IoleaseError | undefined): void {
    this.#state = 'closed';
    this.#writability.end();
    this.#failure ??= error;
  }

  /** Runs an application callback: what it throws is reported, and the channel goes on (LOOP-5). */
  #call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      reportUncaught(error);
    }
  }
}

function sizerError(id: number, what: string, cause?: unknown): IoleaseError {
  return new IoleaseError(
    ErrorCode.INVALID_SIZER,
    `The sizer of channel ${id} ${what}; nextReadSize() must return a positive safe integer (SIZER-3)`,
    cause === undefined ? undefined : { cause },
  );
}
