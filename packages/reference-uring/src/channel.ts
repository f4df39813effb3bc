import {
  type Channel,
  type ChannelHandler,
  ChannelLeases,
  type ChannelState,
  channelClosedError,
  ErrorCode,
  IoleaseError,
  PooledLease,
  type RecvByteBufferSizer,
  reportChannelError,
  reportUncaught,
  type SocketAddress,
  snapshotWrite,
  validateBoolean,
  validateInteger,
  validateObject,
  validateWrite,
  type WaterMarks,
  Writability,
  type WriteCompletionCallback,
  type WriteData,
  writeAfterEndError,
} from '@iolease/interfaces';
import { CQE_BUFFER_SHIFT, CQE_F_BUFFER, CQE_F_MORE } from './completion.js';
import { systemError } from './errors.js';
import type { UringEventLoop } from './loop.js';
import type { PoolWaiter } from './pool.js';
import { DETACHED, type PendingWrite, WriteQueue } from './write-queue.js';

const EAGAIN = 11;
const EMPTY_ADDRESS: SocketAddress = Object.freeze({ family: 'IPv4', address: '', port: 0 });
const ENOBUFS = 105;
const ECANCELED = 125;

/** Where the channel's single receive is (at most one is ever armed, so bytes keep their order). */
enum Recv {
  Idle = 0,
  Armed = 1,
  Cancelling = 2,
}

export interface ChannelInit {
  readonly sizer: RecvByteBufferSizer;
  readonly autoRead: boolean;
  readonly waterMarks: WaterMarks;
  /** The most buffers the channel holds before it stops receiving (PRESS-9). */
  readonly maxLeases: number;
  /** A Unix domain socket (LIFE-20): no TCP options to set. */
  readonly unix: boolean;
}

/**
 * One TCP connection on the io_uring loop.
 *
 * Reads: one multishot receive at a time, on the size class the sizer maps to (SIZER-1);
 * ENOBUFS parks the channel with the pool until buffers return (PRESS-1..3).
 * Writes: one send in flight, built from the queue's front, so bytes and completions keep
 * their order (WRITE-4, WRITE-5).
 * Close: cancel every operation and close the socket in one linked submission; onClose once
 * every operation has completed (LIFE-7, LIFE-12).
 */
export class UringChannel implements Channel, PoolWaiter {
  readonly id: number;
  readonly sizer: RecvByteBufferSizer;
  readonly #loop: UringEventLoop;
  readonly #slot: number;
  #handler: ChannelHandler | undefined;
  #state: ChannelState = 'open';
  #connecting: boolean;

  // Reading
  #autoRead: boolean;
  #readRequested = false;
  #recv = Recv.Idle;
  #recvClass = -1;
  #recvCancels = 0;
  /** The class this channel waits for buffers of (PRESS-1), or -1. */
  #waitingClass = -1;
  /** The class whose wake this channel holds (PRESS-8), or -1: see {@link PoolWaiter}. */
  #wakeClass = -1;
  #eof = false;
  #inputEnded = false;
  readonly #held: PooledLease[] = [];
  /** The buffers this channel holds, and its leases' owner (PRESS-9). */
  readonly #leases: ChannelLeases;
  /** No maxLeases: receives may be multishot. */
  readonly #maxLeasesUnset: boolean;
  /** A Unix domain socket (LIFE-20): no TCP options to set. */
  readonly #unix: boolean;
  #heldDeliveryScheduled = false;

  // Writing
  readonly #writes = new WriteQueue();
  /** A send, or a poll for room after a send the socket could not take whole, is in the kernel. */
  #sendInFlight = false;
  /** Waiting in the loop's send queue for the next enter (submitSend). */
  #sendQueued = false;
  /** Bytes the send in flight asked the kernel to take: fewer taken means the socket is full. */
  #sendRequested = 0;
  readonly #writability: Writability;
  #outputEnded = false;
  #shutdownDone = false;
  #settleScheduled = false;

  // Closing
  #closeOps = 0;
  #failure: IoleaseError | undefined;
  #finalized = false;

  #localAddress: SocketAddress | undefined;
  #remoteAddress: SocketAddress | undefined;

  constructor(loop: UringEventLoop, slot: number, id: number, init: ChannelInit, connecting: boolean) {
    this.#loop = loop;
    this.#slot = slot;
    this.id = id;
    this.sizer = init.sizer;
    this.#autoRead = init.autoRead;
    this.#unix = init.unix;
    this.#maxLeasesUnset = init.maxLeases === Number.POSITIVE_INFINITY;
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
    this.#connecting = connecting;
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
    this.#localAddress ??= this.#address(false);
    return this.#localAddress;
  }
  get remoteAddress(): SocketAddress {
    this.#remoteAddress ??= this.#address(true);
    return this.#remoteAddress;
  }

  /**
   * The addresses the engine captured at accept or connect (LIFE-13), read through the slot while
   * it is this channel's: at finalize they are kept, since the slot then goes to another
   * connection. None captured (a connection reset before it was accepted, a failed connect)
   * reads as an empty address.
   */
  #address(peer: boolean): SocketAddress {
    if (this.#finalized) return EMPTY_ADDRESS;
    const a = this.#loop.addressOrErrno(this.#slot, peer);
    return typeof a === 'number' ? EMPTY_ADDRESS : a;
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
    // The views and lengths as they are now (WRITE-12): the chunks are read again for every later
    // send (a partial send, more chunks than one sendmsg takes), and the caller may change its
    // array, or a length-tracking view may change length, meanwhile.
    const chunks = snapshotWrite(data);
    const pins = this.#loop.pool.pins.pin(chunks);
    const write: PendingWrite = { data: chunks, length, onComplete, written: 0, error: undefined, pins };
    if (this.#state === 'closed') write.error = channelClosedError();
    else if (this.#outputEnded) write.error = writeAfterEndError();
    this.#writes.push(write);
    if (write.error === undefined) {
      this.#writability.add(length);
    }
    if (this.#finalized) this.#scheduleSettle();
    else this.#startSend(false);
    return this.#writability.writable;
  }

  shutdown(): void {
    if (this.#outputEnded || this.#state === 'closed') return;
    this.#outputEnded = true;
    this.#writability.end();
    this.#startSend(false);
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
    if (this.#state === 'open' && !this.#unix) {
      this.#loop.checkErrno(this.#loop.native.setNoDelay(this.#slot, noDelay), 'setsockopt');
    }
  }

  setKeepAlive(enable: boolean, initialDelayMs = 0): void {
    validateBoolean('enable', enable);
    validateInteger('initialDelayMs', initialDelayMs, 0, 2 ** 31 - 1);
    if (this.#state !== 'open' || this.#unix) return; // a Unix socket has no keep-alive (LIFE-20)
    const seconds = Math.ceil(initialDelayMs / 1000);
    this.#loop.checkErrno(this.#loop.native.setKeepAlive(this.#slot, enable, seconds), 'setsockopt');
  }

  unref(): this {
    if (this.#state === 'open') this.#loop.setReferenced(this, false);
    return this;
  }

  ref(): this {
    if (this.#state === 'open') this.#loop.setReferenced(this, true);
    return this;
  }

  // ---- Called by the loop ----------------------------------------------------------------

  /** The connect completed, with `error` when it failed; a failed channel closes without callbacks. */
  onConnect(error: IoleaseError | undefined): void {
    this.#connecting = false;
    if (error !== undefined) {
      // Nothing else is in flight before a connection exists: finalize now, without callbacks
      // (the caller learns of it from the rejected promise).
      this.#handler = undefined;
      this.#state = 'closed';
      this.#writability.end();
      this.#failure = error;
      this.#maybeFinalize();
      return;
    }
    if (this.#state === 'closed') {
      this.#maybeFinalize();
      return;
    }
    this.#updateReading(true);
    this.#startSend(true);
  }

  /** One completion of this channel's multishot receive, armed on size class `group`. */
  onRecv(res: number, flags: number, group: number): void {
    const more = (flags & CQE_F_MORE) !== 0;
    if (!more) this.#recv = Recv.Idle;
    if (res > 0 && (flags & CQE_F_BUFFER) !== 0) {
      this.#deliverRead(res, flags >>> CQE_BUFFER_SHIFT, group);
    } else if (res === 0) {
      this.#eof = true;
    } else if (res === -ENOBUFS) {
      // Pool pressure, not an error; this may also be an EOF the kernel could not report
      // without a buffer, which the next receive will find (PRESS-2). A woken channel that lost
      // the buffer to another receive keeps its place at the front of the line (PRESS-6).
      const woken = this.#wakeClass === group;
      if (this.#state === 'open' && this.#wantsReceive()) {
        this.#wakeClass = -1;
        this.#waitingClass = group;
        this.#loop.pool.exhausted(group, this, woken);
        return;
      }
      this.#handBackWake();
    } else if (res < 0 && res !== -ECANCELED) {
      this.#handBackWake();
      this.#fail(systemError(res, 'recv'));
      return;
    }
    // The receive a wake was for took its buffer, or ended without one: either way the wake is
    // spent, and a buffer still free goes to the next waiter (PRESS-8).
    this.#handBackWake();
    if (!more) this.#afterReceiveEnded();
  }

  resumeReceive(index: number): void {
    if (this.#wakeClass >= 0) {
      // A channel holds one wake at most: a second would be overwritten and never handed back.
      this.#loop.pool.wakeDone(index);
      return;
    }
    this.#waitingClass = -1;
    this.#wakeClass = index;
    this.#updateReading(true);
    // Only a receive armed on the woken class can use the wake; otherwise pass it on now.
    if (this.#recv !== Recv.Armed || this.#recvClass !== index) {
      this.#handBackWake();
      return;
    }
    // A receive with data completes as soon as the kernel sees it, within the pump that submits
    // it; one with nothing to read just waits, and would hold the wake for good. So the wake is
    // spent by the receive's first completion, or one turn of the loop after arming, whichever
    // comes first (PRESS-8). Handing it back early costs at most one spare wake-up.
    setImmediate(this.#expireWake);
  }

  readonly #expireWake = (): void => this.#handBackWake();

  onSend(res: number): void {
    this.#sendInFlight = false;
    if (res === -EAGAIN) {
      this.#awaitRoom();
      return;
    }
    if (res < 0) {
      if (res !== -ECANCELED) this.#fail(systemError(res, 'send'));
      this.#maybeFinalize();
      return;
    }
    let remaining = res;
    while (remaining > 0) {
      const w = this.#writes.peek() as PendingWrite;
      const take = Math.min(remaining, w.length - w.written);
      w.written += take;
      remaining -= take;
      if (w.written === w.length) this.#completeHead(undefined);
    }
    if (this.#state === 'closed') this.#maybeFinalize();
    else if (res < this.#sendRequested) this.#awaitRoom();
    else this.#startSend(true);
  }

  /** The socket has room again, or the poll for it ended. */
  onWritable(res: number): void {
    this.#sendInFlight = false;
    if (res < 0 && res !== -ECANCELED) this.#fail(systemError(res, 'poll'));
    if (this.#state === 'closed' || res < 0) this.#maybeFinalize();
    else this.#startSend(true);
  }

  /**
   * Called by the loop right before it enters the kernel, with no JavaScript to run in between
   * (WRITE-12): takes the addresses of the next send's memory, checked to be still whole, and
   * submits it. Returns false when the SQ has no room: the loop calls again after the enter.
   *
   * @internal
   */
  submitSend(): boolean {
    this.#sendQueued = false;
    if (this.#sendInFlight || this.#finalized || this.#state === 'closed') return true;
    const chunks = this.#writes.nextSend(this.#loop.maxIov);
    if (chunks === undefined) return true;
    if (chunks === DETACHED) {
      // The memory of a pending write was detached or shrunk since write(): sending what is
      // there now would send freed memory, and skipping it would tear the stream.
      const error = new IoleaseError(
        ErrorCode.INVALID_STATE,
        `The memory of a pending write on channel ${this.id} was detached or shrunk before it was sent (WRITE-12)`,
      );
      this.#loop.defer(() => this.#fail(error));
      this.#loop.requestPump();
      return true;
    }
    const native = this.#loop.native;
    const ret = chunks instanceof Uint8Array ? native.send(this.#slot, chunks) : native.sendVector(this.#slot, chunks);
    if (ret === -EAGAIN) {
      this.#sendQueued = true;
      return false;
    }
    if (this.#nativeFailed(ret, 'send')) {
      this.#loop.requestPump();
      return true;
    }
    this.#sendInFlight = true;
    this.#sendRequested = requestedBytes(chunks);
    return true;
  }

  #awaitRoom(): void {
    if (this.#state === 'closed') {
      this.#maybeFinalize();
      return;
    }
    if (this.#nativeFailed(this.#loop.native.pollWritable(this.#slot), 'poll')) return;
    this.#sendInFlight = true;
    this.#loop.requestPump();
  }

  onCloseStep(): void {
    this.#closeOps--;
    this.#maybeFinalize();
  }

  /** The cancel request of a receive completed (its result does not matter: the receive's own end does). */
  onRecvCancelled(): void {
    this.#recvCancels--;
    this.#maybeFinalize();
  }

  /** Close as part of a failed connect or loop teardown, with an error for pending writes. */
  abort(error: IoleaseError | undefined): void {
    // Still connecting: the caller learns of it from the rejected promise, with no callbacks.
    if (this.#connecting) this.#handler = undefined;
    this.#beginClose(false, error);
  }

  get finalized(): boolean {
    return this.#finalized;
  }

  // ---- Reading ---------------------------------------------------------------------------

  #wantsReceive(): boolean {
    return (
      this.#state === 'open' &&
      !this.#connecting &&
      this.#handler !== undefined &&
      !this.#eof &&
      this.#leases.belowMax &&
      (this.#autoRead || this.#readRequested)
    );
  }

  #wantsDelivery(): boolean {
    return this.#state === 'open' && this.#handler !== undefined && (this.#autoRead || this.#readRequested);
  }

  /**
   * Brings the receive in line with what the channel wants (READ-1..5): deliver held data,
   * arm, or cancel. `inLoop` says whether callbacks may run now (false inside an API call).
   */
  #updateReading(inLoop: boolean): void {
    if (this.#state !== 'open' || this.#connecting) return;
    if ((this.#held.length > 0 || this.#eofPendingDelivery()) && this.#wantsDelivery()) {
      if (inLoop) this.#deliverHeld();
      else this.#scheduleHeldDelivery();
      if (this.#held.length > 0) return;
    }
    if (this.#wantsReceive()) {
      if (this.#recv === Recv.Idle && this.#waitingClass < 0 && this.#held.length === 0) this.#arm();
    } else if (this.#recv === Recv.Armed) {
      this.#cancelReceive();
    } else if (this.#waitingClass >= 0) {
      this.#loop.pool.forget(this.#waitingClass, this);
      this.#waitingClass = -1;
    }
  }

  #handBackWake(): void {
    const index = this.#wakeClass;
    if (index < 0) return;
    this.#wakeClass = -1;
    this.#loop.pool.wakeDone(index);
  }

  /**
   * A native preparation failed (-errno), which means the socket is gone: fail the channel,
   * later, because this may run inside an API call (LOOP-2) or a completion batch (LOOP-5).
   */
  #nativeFailed(ret: number, syscall: string): boolean {
    if (ret >= 0) return false;
    const error = systemError(ret, syscall);
    this.#loop.defer(() => this.#fail(error));
    return true;
  }

  #arm(): void {
    let preferred: number;
    try {
      preferred = this.sizer.nextReadSize();
    } catch (cause) {
      this.#fail(new IoleaseError(ErrorCode.INVALID_SIZER, `The sizer of channel ${this.id} threw`, { cause }));
      return;
    }
    if (!Number.isSafeInteger(preferred) || preferred <= 0) {
      this.#fail(
        new IoleaseError(
          ErrorCode.INVALID_SIZER,
          `The sizer of channel ${this.id} returned ${String(preferred)}; nextReadSize() must return a positive safe integer (SIZER-3)`,
        ),
      );
      return;
    }
    const cls = this.#loop.pool.classIndexFor(preferred);
    // A channel that limits what it holds receives one buffer per receive (PRESS-9).
    const multishot = this.#maxLeasesUnset;
    if (this.#nativeFailed(this.#loop.native.armRecv(this.#slot, cls, multishot), 'recv')) return;
    this.#recvClass = cls;
    this.#recv = Recv.Armed;
    this.#loop.requestPump();
  }

  #cancelReceive(): void {
    if (this.#nativeFailed(this.#loop.native.cancelRecv(this.#slot), 'recv')) return;
    this.#recv = Recv.Cancelling;
    this.#recvCancels++;
    this.#loop.requestPump();
  }

  #deliverRead(length: number, bid: number, cls: number): void {
    const pool = this.#loop.pool;
    const view = pool.take(cls, bid, length);
    const capacity = pool.classSize(cls);
    this.#leases.taken();
    const lease = new PooledLease({
      owner: this.#leases,
      id: this.#loop.nextLeaseId(),
      classIndex: cls,
      bufferId: bid,
      view,
      sizeClass: capacity,
      tracker: this.#loop.leaks,
    });
    if (this.#state !== 'open') {
      lease.release(); // nobody will read it: straight back to the pool
      return;
    }
    this.#loop.leaks?.track(lease, this.id);
    try {
      this.sizer.record(length, capacity);
    } catch (cause) {
      lease.release();
      this.#fail(new IoleaseError(ErrorCode.INVALID_SIZER, `The sizer of channel ${this.id} threw`, { cause }));
      return;
    }
    if (this.#held.length > 0 || !this.#wantsDelivery()) {
      this.#held.push(lease);
      this.#loop.pool.hold(lease.sizeClass, 1);
    } else {
      this.#readRequested = false;
      this.#callOnRead(lease);
    }
    if (this.#recv === Recv.Armed) {
      // Paused meanwhile, or the sizer now maps elsewhere: end this receive; a new one follows
      // on the right class once the kernel confirms the end (SIZER-1, READ-3).
      if (!this.#wantsReceive()) this.#cancelReceive();
      else if (this.#loop.pool.classIndexFor(this.#safeNextReadSize()) !== this.#recvClass) this.#cancelReceive();
    }
  }

  #safeNextReadSize(): number {
    try {
      const n = this.sizer.nextReadSize();
      return Number.isSafeInteger(n) && n > 0 ? n : 1;
    } catch {
      return 1;
    }
  }

  #afterReceiveEnded(): void {
    if (this.#state === 'open') this.#updateReading(true);
    else this.#maybeFinalize();
  }

  #eofPendingDelivery(): boolean {
    return this.#eof && !this.#inputEnded && this.#recv === Recv.Idle;
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
      const handler = this.#handler;
      try {
        handler?.onEnd?.(this);
      } catch (error) {
        reportUncaught(error);
      }
      this.#closeIfBothEnded();
    }
  }

  /** Both directions are done: the channel closes by itself, as a net.Socket does (LIFE-5). */
  #closeIfBothEnded(): void {
    if (this.#state === 'open' && this.#inputEnded && this.#shutdownDone) this.#beginClose(false, undefined);
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

  /** Submits the next send when none is in flight; settles unsendable writes at the front. */
  #startSend(inLoop: boolean): void {
    if (this.#sendInFlight || this.#sendQueued || this.#connecting || this.#finalized) return;
    if (this.#state === 'closed') return;
    const head = this.#writes.peek();
    if (head === undefined) {
      if (this.#outputEnded && !this.#shutdownDone) {
        this.#shutdownDone = true;
        const err = this.#loop.native.shutdown(this.#slot);
        if (err < 0 && inLoop) this.#fail(systemError(err, 'shutdown'));
        else this.#closeIfBothEnded();
      }
      return;
    }
    if (head.error !== undefined || head.length === 0) {
      if (inLoop) {
        this.#completeHead(head.error);
        this.#startSend(true);
      } else {
        this.#scheduleSettle();
      }
      return;
    }
    // The send itself is built right before the next enter (submitSend, WRITE-12).
    this.#sendQueued = true;
    this.#loop.queueSend(this);
  }

  #scheduleSettle(): void {
    if (this.#settleScheduled) return;
    this.#settleScheduled = true;
    this.#loop.defer(() => {
      this.#settleScheduled = false;
      if (this.#finalized) this.#failAllWrites(channelClosedError());
      else this.#startSend(true);
    });
  }

  /** Completes the front write (WRITE-3): counters first, then the callback, then writability. */
  #completeHead(error: IoleaseError | undefined): void {
    const w = this.#writes.shift() as PendingWrite;
    // The kernel is done with the write's memory (WRITE-7): buffers released meanwhile go back.
    if (w.pins !== undefined) this.#loop.pool.pins.unpin(w.pins);
    if (w.error === undefined) this.#writability.remove(w.length);
    this.#loop.countWrite(error === undefined ? w.length : 0);
    if (w.onComplete !== undefined) {
      try {
        w.onComplete(error, w.written);
      } catch (e) {
        reportUncaught(e);
      }
    }
    this.#writability.settle();
  }

  /** Deferred: writability changes inside write() and completions (LOOP-2, WATER-4). */

  #failAllWrites(error: IoleaseError): void {
    while (this.#writes.length > 0) {
      const head = this.#writes.peek() as PendingWrite;
      this.#completeHead(head.error ?? error);
    }
  }

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
    if (this.#waitingClass >= 0) {
      this.#loop.pool.forget(this.#waitingClass, this);
      this.#waitingClass = -1;
    }
    const ret = this.#loop.native.close(this.#slot, abortive);
    if (ret >= 0) {
      this.#closeOps = 2;
      this.#loop.requestPump();
    } else {
      // The socket is already gone (a failed connect): nothing of ours is in the kernel.
      this.#closeOps = 0;
      this.#recv = Recv.Idle;
      this.#sendInFlight = false;
      this.#connecting = false;
      this.#loop.defer(() => this.#maybeFinalize());
    }
  }

  #maybeFinalize(): void {
    if (this.#finalized || this.#state !== 'closed') return;
    // Every operation naming this slot must have completed before the slot can be reused.
    if (this.#closeOps > 0 || this.#recvCancels > 0 || this.#recv !== Recv.Idle || this.#sendInFlight) return;
    if (this.#connecting) return;
    // The slot goes to another connection from here: keep this one's addresses (LIFE-13).
    this.#localAddress ??= this.#address(false);
    this.#remoteAddress ??= this.#address(true);
    this.#finalized = true;
    this.#handBackWake();
    this.#failAllWrites(this.#failure ?? channelClosedError());
    for (const lease of this.#held.splice(0)) {
      this.#loop.pool.hold(lease.sizeClass, -1);
      lease.release();
    }
    this.#loop.channelFinalized(this.#slot, this);
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

/** What one send asks of the kernel: each view up to the native cap (MAX_SEND_CHUNK). */
function requestedBytes(chunks: Uint8Array | readonly Uint8Array[]): number {
  if (chunks instanceof Uint8Array) return chunks.byteLength;
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  return total;
}
