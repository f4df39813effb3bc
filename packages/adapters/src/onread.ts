import type { Socket } from 'node:net';
import { PooledLease, reportUncaught } from '@iolease/backend-core';
import {
  AdaptiveRecvByteBufferSizer,
  type Channel,
  type ChannelHandler,
  DEFAULT_SIZE_CLASSES,
  ErrorCode,
  IoleaseError,
  type Lease,
  type RecvByteBufferSizer,
  type SizeClassConfig,
  validateFunction,
  validateObject,
  validateSizeClasses,
} from '@iolease/interfaces';
import { NetBufferPool, type PoolReader } from './net/pool.js';

/** node:net's `onread` option: where reads go, and what is called with each. */
export interface OnreadOptions<T = unknown> {
  /** A buffer reused for every read, or a function returning the buffer for the next read. */
  readonly buffer: Uint8Array | (() => Uint8Array);
  /** Called with each read; returning `false` pauses reading until `this.resume()`. */
  readonly callback: (this: T, bytesRead: number, buffer: Uint8Array) => unknown;
}

// ---- onread → iolease: code written for node:net's onread, on any iolease channel ------------

/** What `this` is inside an adapted onread callback: enough of a socket to pause and resume. */
export interface OnreadSocket {
  readonly channel: Channel;
  /** Resumes reading after the callback returned `false`, as `net.Socket#resume()`. */
  resume(): void;
  /** Pauses reading, as `net.Socket#pause()`. */
  pause(): void;
}

/**
 * Runs code written for node:net's `onread` on an iolease channel: each lease is copied into the
 * onread buffer (in as many callbacks as the buffer needs) and released, and `callback`
 * returning `false` pauses the channel until `this.resume()`, keeping the rest of the lease for
 * then. The copy is the point: onread code owns its buffer and expects to be called with it.
 *
 * @param onread - the `onread` option as given to `net.connect`
 * @param extra - other channel callbacks (`onEnd`, `onClose`, …)
 * @returns a handler for one channel; create one per channel
 */
export function onreadHandler(
  onread: OnreadOptions<OnreadSocket>,
  extra: Omit<ChannelHandler, 'onRead'> = {},
): ChannelHandler {
  validateObject('onread', onread);
  validateFunction('onread.callback', onread.callback);
  const { buffer } = onread;
  if (!(buffer instanceof Uint8Array) && typeof buffer !== 'function') {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_TYPE,
      'The "onread.buffer" argument must be a Uint8Array or a function returning one',
    );
  }
  validateObject('extra', extra);
  /** A lease the callback paused in the middle of, and how far it got. */
  let rest: { lease: Lease; offset: number } | undefined;
  let socket: OnreadSocket | undefined;

  /** The buffer of the next callback: the static one, or a fresh one per call, as node:net does. */
  const nextBuffer = (): Uint8Array => {
    if (typeof buffer !== 'function') return buffer;
    const next = buffer();
    if (!(next instanceof Uint8Array) || next.length === 0) {
      throw new IoleaseError(ErrorCode.INVALID_ARG_VALUE, 'onread.buffer() must return a non-empty Uint8Array');
    }
    return next;
  };

  /** Feeds the lease from `offset` to the callback; false when the callback paused. */
  const feed = (lease: Lease, offset: number): boolean => {
    const bytes = lease.bytes;
    while (offset < bytes.length) {
      const target = nextBuffer();
      const n = Math.min(target.length, bytes.length - offset);
      target.set(bytes.subarray(offset, offset + n));
      offset += n;
      const result = onread.callback.call(socket as OnreadSocket, n, target);
      if (result === false) {
        socket?.pause();
        if (offset < bytes.length) rest = { lease, offset };
        else lease.release();
        return false;
      }
    }
    lease.release();
    return true;
  };

  return {
    ...extra,
    onRead(channel, lease) {
      socket ??= {
        channel,
        pause: () => channel.setAutoRead(false),
        resume: () => {
          const pending = rest;
          rest = undefined;
          if (pending !== undefined && !feed(pending.lease, pending.offset)) return;
          channel.setAutoRead(true);
        },
      };
      try {
        feed(lease, 0);
      } catch (error) {
        if (!lease.released) lease.release();
        reportUncaught(error);
      }
    },
    onClose(channel) {
      if (rest !== undefined) rest.lease.release();
      rest = undefined;
      extra.onClose?.(channel);
    },
  };
}

// ---- iolease → onread: leases and a sizer for plain net.Sockets -----------------------------

/** Options of {@link leaseOnread}. */
export interface LeaseOnreadOptions {
  /** The pool the socket's reads are leased from; share one between many sockets. */
  readonly pool: NetBufferPool;
  /** Chooses each read's size class (SIZER-1); default a new AdaptiveRecvByteBufferSizer. */
  readonly sizer?: RecvByteBufferSizer;
  /** Receives each read as a lease, which the application releases when done. */
  readonly onRead: (lease: Lease, socket: Socket) => void;
}

/** What {@link leaseOnread} returns: an `onread` option for `net.connect` and `new net.Socket`. */
export interface LeaseOnread {
  /** The buffer of the socket's next read: the pool's landing buffer for the sizer's class. */
  buffer(): Uint8Array;
  /** Moves a read into a pool buffer, hands it out as a lease; `false` pauses the socket. */
  callback(this: Socket, bytesRead: number, buffer: Uint8Array): boolean;
  /** Reads that found the pool dry and were given memory outside it. */
  overflowReads(): number;
}

/**
 * Creates a receive pool for {@link leaseOnread}: loop-owned memory in size classes, shared by
 * any number of plain `net.Socket`s.
 *
 * @param sizeClasses - default {@link DEFAULT_SIZE_CLASSES}
 */
export function createLeasePool(sizeClasses: readonly SizeClassConfig[] = DEFAULT_SIZE_CLASSES): NetBufferPool {
  return new NetBufferPool(validateSizeClasses(sizeClasses), { poison: false, defer: queueMicrotask });
}

/**
 * An `onread` option for a plain `net.Socket` that hands out each read as a {@link Lease} from a
 * shared pool, sized by a {@link RecvByteBufferSizer}: iolease's ownership contract without an
 * iolease loop.
 *
 * Reads land in the pool's landing buffer and move into a pool buffer of the sizer's class (or a
 * larger one). When the pool has no buffer for the socket's next read, the socket pauses, and
 * resumes by itself once leases come back. A plain socket is not a loop's channel: the one read
 * that may already be under way when the pool runs dry is given memory of its own, outside the
 * pool, rather than dropped; `overflowReads()` counts those.
 *
 * @example
 * ```ts
 * const pool = createLeasePool();
 * const socket = net.connect({ port, onread: leaseOnread({ pool, onRead: (lease) => { use(lease.bytes); lease.release(); } }) });
 * ```
 */
export function leaseOnread(options: LeaseOnreadOptions): LeaseOnread {
  validateObject('options', options);
  const { pool } = options;
  if (!(pool instanceof NetBufferPool)) {
    throw new IoleaseError(ErrorCode.INVALID_ARG_TYPE, 'The "options.pool" argument must come from createLeasePool()');
  }
  const onRead = validateFunction<LeaseOnreadOptions['onRead']>('options.onRead', options.onRead);
  const sizer = options.sizer ?? new AdaptiveRecvByteBufferSizer();
  validateObject('options.sizer', sizer);
  let nextClass = pool.classIndexFor(sizer.nextReadSize());
  let overflow = 0;
  let nextLeaseId = 1;
  const unpooled = { give: () => {} };

  return {
    buffer: () => pool.landing(nextClass),
    callback(this: Socket, bytesRead: number) {
      const cls = nextClass;
      const capacity = pool.classSize(cls);
      const source = pool.classWithFree(cls);
      let lease: PooledLease;
      if (source >= 0) {
        const { bufferId, view } = pool.take(source, bytesRead);
        lease = new PooledLease({
          owner: pool,
          id: nextLeaseId++,
          classIndex: source,
          bufferId,
          view,
          sizeClass: pool.classSize(source),
          capacity,
        });
      } else {
        overflow++;
        const copy = pool.landing(cls).slice(0, bytesRead);
        lease = new PooledLease({
          owner: unpooled,
          id: nextLeaseId++,
          classIndex: cls,
          bufferId: -1,
          view: copy,
          sizeClass: capacity,
        });
      }
      sizer.record(bytesRead, capacity);
      nextClass = pool.classIndexFor(sizer.nextReadSize());
      try {
        onRead(lease, this);
      } catch (error) {
        reportUncaught(error);
      }
      if (pool.classWithFree(nextClass) >= 0) return true;
      const socket = this;
      const waiter: PoolReader = {
        stopForPressure() {},
        resumeAfterPressure() {
          if (!socket.destroyed) socket.resume();
        },
      };
      pool.wait(waiter, nextClass);
      return false;
    },
    overflowReads: () => overflow,
  };
}
