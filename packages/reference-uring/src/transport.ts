import {
  ChannelCore,
  type ChannelSettings,
  type ChannelTransport,
  DETACHED,
  type PendingWrite,
} from '@iolease/backend-core';
import { ErrorCode, IoleaseError, type SocketAddress } from '@iolease/interfaces';
import { CQE_BUFFER_SHIFT, CQE_F_BUFFER, CQE_F_MORE, CQE_F_NOTIF } from './completion.js';
import { systemError } from './errors.js';
import type { UringEventLoop } from './loop.js';
import type { PoolWaiter } from './pool.js';

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

export interface ChannelInit extends ChannelSettings {
  /** A Unix domain socket (LIFE-20): no TCP options to set. */
  readonly unix: boolean;
}

/**
 * One connection on the io_uring loop: the I/O its {@link ChannelCore} asks for, on the engine's
 * socket slot. The core is the channel the application sees; this is what only io_uring does.
 *
 * Receives: one multishot receive at a time, on the class the sizer maps to (SIZER-1); ENOBUFS
 * parks the connection with the pool until buffers return (PRESS-1..3, PRESS-8).
 * Sends: one in flight, built from the front of the core's queue right before the enter
 * (WRITE-12), resumed after a partial send once the socket has room (WRITE-5, WRITE-6).
 * Close: cancel every operation and close the socket in one linked submission; the core
 * finalizes once every operation naming the slot has completed (LIFE-7, LIFE-12).
 */
export class UringTransport implements ChannelTransport, PoolWaiter {
  readonly channel: ChannelCore;
  readonly #loop: UringEventLoop;
  readonly #slot: number;
  /** A Unix domain socket (LIFE-20): no TCP options to set. */
  readonly #unix: boolean;
  /** No maxLeases: receives may be multishot. */
  readonly #multishot: boolean;

  #recv = Recv.Idle;
  #recvClass = -1;
  #recvCancels = 0;
  /** The class this connection waits for buffers of (PRESS-1), or -1. */
  #waitingClass = -1;
  /** The class whose wake this connection holds (PRESS-8), or -1: see {@link PoolWaiter}. */
  #wakeClass = -1;

  /** A send, or a poll for room after a send the socket could not take whole, is in the kernel. */
  #sendInFlight = false;
  /** Waiting in the loop's send queue for the next enter (submitSend). */
  #sendQueued = false;
  /** Bytes the send in flight asked the kernel to take: fewer taken means the socket is full. */
  #sendRequested = 0;
  /** The first result of a zero-copy send in flight, kept until its notification. */
  #zeroCopyResult = 0;

  /** The connect is still in the kernel: the slot is not free before it completes. */
  #connectPending: boolean;
  /** The connect failed: the engine has no socket left to close. */
  #connectFailed = false;
  /** Close operations (cancel, close) not completed yet. */
  #closeOps = 0;
  #closing = false;

  constructor(loop: UringEventLoop, slot: number, id: number, init: ChannelInit, connecting: boolean) {
    this.#loop = loop;
    this.#slot = slot;
    this.#unix = init.unix;
    this.#multishot = init.maxLeases === Number.POSITIVE_INFINITY;
    this.#connectPending = connecting;
    this.channel = new ChannelCore({
      ...init,
      id,
      connecting,
      pool: loop.pool,
      loop: loop.core,
      transport: () => this,
    });
  }

  // ---- Asked by the core -----------------------------------------------------------------

  receive(): void {
    if (this.#recv === Recv.Idle && this.#waitingClass < 0) this.#arm();
  }

  stopReceiving(): void {
    if (this.#recv === Recv.Armed) this.#cancelReceive();
    else if (this.#waitingClass >= 0) {
      this.#loop.pool.forget(this.#waitingClass, this);
      this.#waitingClass = -1;
    }
  }

  send(_write: PendingWrite): void {
    this.#startSend();
  }

  shutdown(): IoleaseError | undefined {
    const err = this.#loop.native.shutdown(this.#slot);
    return err < 0 ? systemError(err, 'shutdown') : undefined;
  }

  close(abortive: boolean): void {
    this.#closing = true;
    if (this.#waitingClass >= 0) {
      this.#loop.pool.forget(this.#waitingClass, this);
      this.#waitingClass = -1;
    }
    if (this.#connectFailed) return; // onConnect finalizes
    const ret = this.#loop.native.close(this.#slot, abortive);
    if (ret >= 0) {
      this.#closeOps = 2;
      this.#loop.requestPump();
    } else {
      // The socket is already gone (a failed connect): nothing of ours is in the kernel.
      this.#closeOps = 0;
      this.#recv = Recv.Idle;
      this.#sendInFlight = false;
      this.#loop.defer(() => this.#maybeFinalize());
    }
  }

  setNoDelay(noDelay: boolean): void {
    if (!this.#unix) this.#loop.checkErrno(this.#loop.native.setNoDelay(this.#slot, noDelay), 'setsockopt');
  }

  setKeepAlive(enable: boolean, delaySeconds: number): void {
    if (this.#unix) return; // a Unix socket has no keep-alive (LIFE-20)
    this.#loop.checkErrno(this.#loop.native.setKeepAlive(this.#slot, enable, delaySeconds), 'setsockopt');
  }

  setReferenced(referenced: boolean): void {
    this.#loop.setReferenced(this, referenced);
  }

  /**
   * The address the engine captured at accept or connect (LIFE-13), read through the slot while
   * it is this connection's. None captured (a connection reset before it was accepted, a failed
   * connect) reads as an empty address.
   */
  address(peer: boolean): SocketAddress {
    if (this.channel.finalized) return EMPTY_ADDRESS;
    const a = this.#loop.addressOrErrno(this.#slot, peer);
    return typeof a === 'number' ? EMPTY_ADDRESS : a;
  }

  // ---- Called by the loop ----------------------------------------------------------------

  /** The connect completed, with `error` when it failed; a failed channel closes without callbacks. */
  onConnect(error: IoleaseError | undefined): void {
    this.#connectPending = false;
    if (error !== undefined) {
      // Nothing else is in flight before a connection exists: no socket to close.
      this.#connectFailed = true;
      this.channel.connectFailed(error);
    }
    if (this.channel.state === 'closed') {
      this.#maybeFinalize();
      return;
    }
    this.channel.connected();
    this.#startSend();
  }

  /**
   * One completion of this connection's multishot receive, armed on size class `group`; its bytes
   * start at `offset` in an incremental buffer.
   */
  onRecv(res: number, flags: number, group: number, offset: number): void {
    const more = (flags & CQE_F_MORE) !== 0;
    if (!more) this.#recv = Recv.Idle;
    let eof = false;
    if (res > 0 && (flags & CQE_F_BUFFER) !== 0) {
      const bid = flags >>> CQE_BUFFER_SHIFT;
      const pool = this.#loop.pool;
      // POOL-4: an incremental buffer's later reads could take only what is left of it.
      this.channel.received(group, bid, pool.take(group, bid, res, offset, flags), pool.classSize(group) - offset);
      if (this.#recv === Recv.Armed) {
        // Paused meanwhile, or the sizer now maps elsewhere: end this receive; a new one follows
        // on the right class once the kernel confirms the end (SIZER-1, READ-3).
        if (!this.channel.wantsReceive || this.channel.preferredClass() !== this.#recvClass) this.#cancelReceive();
      }
    } else if (res === 0) {
      eof = true;
    } else if (res === -ENOBUFS) {
      // Pool pressure, not an error; this may also be an end of stream the kernel could not
      // report without a buffer, which the next receive will find (PRESS-2). A woken connection
      // that lost the buffer to another receive keeps its place at the front of the line (PRESS-6).
      const woken = this.#wakeClass === group;
      if (this.channel.wantsReceive) {
        this.#wakeClass = -1;
        this.#waitingClass = group;
        this.#loop.pool.exhausted(group, this, woken);
        return;
      }
    } else if (res < 0 && res !== -ECANCELED) {
      this.#handBackWake();
      this.channel.fail(systemError(res, 'recv'));
      this.#maybeFinalize();
      return;
    }
    // The receive a wake was for took its buffer, or ended without one: either way the wake is
    // spent, and a buffer still free goes to the next waiter (PRESS-8).
    this.#handBackWake();
    if (more) return;
    if (this.channel.state !== 'open') this.#maybeFinalize();
    else if (eof) this.channel.ended();
    else this.channel.update(true);
  }

  resumeReceive(index: number): void {
    if (this.#wakeClass >= 0) {
      // A connection holds one wake at most: a second would be overwritten and never handed back.
      this.#loop.pool.wakeDone(index);
      return;
    }
    this.#waitingClass = -1;
    this.#wakeClass = index;
    this.channel.update(true);
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

  onSend(res: number, flags: number): void {
    if ((flags & CQE_F_NOTIF) !== 0) {
      // The kernel is done with a zero-copy send's memory: only now may its write complete
      // (WRITE-8). The notification's result says whether it copied after all (bit 31).
      if (res >>> 31 === 1) this.#loop.countZeroCopyCopied();
      this.#sendDone(this.#zeroCopyResult);
      return;
    }
    if ((flags & CQE_F_MORE) !== 0) {
      // A zero-copy send's result; its notification follows. The send stays in flight till
      // then, so nothing completes, no other send starts and the channel cannot finalize.
      this.#zeroCopyResult = res;
      return;
    }
    this.#sendDone(res);
  }

  #sendDone(res: number): void {
    this.#sendInFlight = false;
    if (res === -EAGAIN) {
      this.#awaitRoom();
      return;
    }
    if (res < 0) {
      if (res !== -ECANCELED) this.channel.fail(systemError(res, 'send'));
      this.#maybeFinalize();
      return;
    }
    this.channel.sent(res);
    if (this.channel.state === 'closed') this.#maybeFinalize();
    else if (res < this.#sendRequested) this.#awaitRoom();
    else this.#startSend();
  }

  /** The socket has room again, or the poll for it ended. */
  onWritable(res: number): void {
    this.#sendInFlight = false;
    if (res < 0 && res !== -ECANCELED) this.channel.fail(systemError(res, 'poll'));
    if (this.channel.state === 'closed' || res < 0) this.#maybeFinalize();
    else this.#startSend();
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
    if (this.#sendInFlight || this.channel.state === 'closed') return true;
    const chunks = this.channel.writes.nextSend(this.#loop.maxIov);
    if (chunks === undefined) return true;
    if (chunks === DETACHED) {
      // The memory of a pending write was detached or shrunk since write(): sending what is
      // there now would send freed memory, and skipping it would tear the stream.
      const error = new IoleaseError(
        ErrorCode.INVALID_STATE,
        `The memory of a pending write on channel ${this.channel.id} was detached or shrunk before it was sent (WRITE-12)`,
      );
      this.channel.fail(error, false);
      this.#loop.requestPump();
      return true;
    }
    const native = this.#loop.native;
    const requested = requestedBytes(chunks);
    const zeroCopy = requested >= this.#loop.zeroCopyThreshold && this.#zeroCopyAllowed(chunks);
    const ret =
      chunks instanceof Uint8Array
        ? native.send(this.#slot, chunks, zeroCopy)
        : native.sendVector(this.#slot, chunks, zeroCopy);
    if (ret === -EAGAIN) {
      this.#sendQueued = true;
      return false;
    }
    if (this.#nativeFailed(ret, 'send')) {
      this.#loop.requestPump();
      return true;
    }
    this.#sendInFlight = true;
    this.#sendRequested = requested;
    return true;
  }

  /**
   * Zero copy needs memory the loop owns, a lease's (WRITE-8): the kernel reads it until the
   * notification, and the application's own memory could be detached or transferred meanwhile
   * and hold other bytes by then (WRITE-12). And TCP: a Unix socket refuses it (EOPNOTSUPP).
   */
  #zeroCopyAllowed(chunks: Uint8Array | readonly Uint8Array[]): boolean {
    if (this.#unix) return false;
    const pins = this.#loop.pool.pins;
    if (chunks instanceof Uint8Array) return pins.owns(chunks.buffer);
    for (const chunk of chunks) if (!pins.owns(chunk.buffer)) return false;
    return true;
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

  // ---- Receiving -------------------------------------------------------------------------

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
    this.channel.fail(systemError(ret, syscall), false);
    return true;
  }

  #arm(): void {
    const cls = this.channel.preferredClass();
    if (cls instanceof IoleaseError) {
      this.channel.fail(cls, false);
      return;
    }
    // A channel that limits what it holds receives one buffer per receive (PRESS-9).
    if (this.#nativeFailed(this.#loop.native.armRecv(this.#slot, cls, this.#multishot), 'recv')) return;
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

  // ---- Sending ---------------------------------------------------------------------------

  /** Queues the next send when none is in flight and the core has bytes to send. */
  #startSend(): void {
    if (this.#sendInFlight || this.#sendQueued || this.channel.connecting || this.channel.state === 'closed') return;
    if (!this.channel.writes.unfinished) return;
    // The send itself is built right before the next enter (submitSend, WRITE-12).
    this.#sendQueued = true;
    this.#loop.queueSend(this);
  }

  #awaitRoom(): void {
    if (this.channel.state === 'closed') {
      this.#maybeFinalize();
      return;
    }
    if (this.#nativeFailed(this.#loop.native.pollWritable(this.#slot), 'poll')) return;
    this.#sendInFlight = true;
    this.#loop.requestPump();
  }

  // ---- Closing ---------------------------------------------------------------------------

  #maybeFinalize(): void {
    if (!this.#closing || this.#connectPending || this.channel.finalized) return;
    // Every operation naming this slot must have completed before the slot can be reused.
    if (this.#closeOps > 0 || this.#recvCancels > 0 || this.#recv !== Recv.Idle || this.#sendInFlight) return;
    this.#handBackWake();
    this.channel.finalize();
    this.#loop.channelFinalized(this.#slot, this);
  }
}

/** What one send asks of the kernel: each view up to the native cap (MAX_SEND_CHUNK). */
function requestedBytes(chunks: Uint8Array | readonly Uint8Array[]): number {
  if (chunks instanceof Uint8Array) return chunks.byteLength;
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  return total;
}
