import { fileURLToPath } from 'node:url';
import { ErrorCode, IoleaseError } from '@iolease/interfaces';
import { addonCandidates, loadAddon } from './addon.js';

/** Features the ring reported at setup (see NativeLoop.features in binding.cc). */
export interface NativeFeatures {
  readonly setupFlags: number;
  readonly features: number;
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly deferTaskrun: boolean;
  /** Whether enters use the thread's registered-ring table (IORING_REGISTER_RING_FDS). */
  readonly registeredRing: boolean;
  readonly sendZeroCopy: boolean;
  readonly recvSendBundle: boolean;
  /** Whether the kernel consumes the pool's buffers incrementally (IOU_PBUF_RING_INC, 6.12+). */
  readonly incrementalBuffers: boolean;
  /** Whether this is the fault-injection test build with a schedule in IOLEASE_FAULTS. */
  readonly faultInjection: boolean;
}

/** The binding's loop object (src/native/binding.cc). Negative numbers are -errno. */
export interface NativeLoop {
  readonly batch: Int32Array;
  readonly returns: Int32Array;
  readonly counters: Float64Array;
  /** [0]: set to 1 when sends are queued; the pump then calls onFlush right before it enters. */
  readonly sendsQueued: Int32Array;
  /** [0]: 1 while the native pump runs (microtasks after each batch included); it collects whatever is queued meanwhile. */
  readonly pumping: Int32Array;
  listen(
    family: 4 | 6 | 1,
    ip: string,
    port: number,
    backlog: number,
    reusePort: boolean,
    ipv6Only: boolean,
    noDelay: boolean,
  ): number;
  armAccept(slot: number): number;
  connect(family: 4 | 6 | 1, ip: string, port: number, noDelay: boolean): number;
  /** Arms a receive on buffer group `group`: multishot unless `multishot` is false. */
  armRecv(slot: number, group: number, multishot?: boolean): number;
  cancelRecv(slot: number): number;
  /** With `zeroCopy`, SEND_ZC: a second completion (CQE_F_NOTIF) says when the memory is free. */
  send(slot: number, data: Uint8Array, zeroCopy?: boolean): number;
  sendVector(slot: number, data: readonly Uint8Array[], zeroCopy?: boolean): number;
  /** Arms a one-shot poll for POLLOUT; its completion has kind WRITABLE. */
  pollWritable(slot: number): number;
  shutdown(slot: number): number;
  close(slot: number, abortive: boolean): number;
  freeSlot(slot: number): void;
  setNoDelay(slot: number, on: boolean): number;
  setKeepAlive(slot: number, on: boolean, idleSeconds: number): number;
  address(slot: number, peer: boolean): [4 | 6, string, number] | number;
  pump(): void;
  ref(): void;
  unref(): void;
  features(): NativeFeatures;
  /** How often each injected fault fired (all zero outside the fault-injection build). */
  faultsFired(): Record<string, number>;
  /**
   * The memory of buffer `bid` of class `index` as its own ArrayBuffer, or of `length` bytes of
   * it from `offset`; throws RangeError for no such buffer or piece.
   */
  bufferMemory(index: number, bid: number, offset?: number, length?: number): ArrayBuffer;
  /** Moves the queued returns into the buffer rings now, as the next pump would. */
  flushReturns(): void;
  destroy(): void;
}

export interface NativeLoopOptions {
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly classes: readonly { readonly size: number; readonly count: number }[];
  /** Incremental buffer consumption where the kernel has it (IOU_PBUF_RING_INC, 6.12+). */
  readonly incremental?: boolean;
  readonly onBatch: (count: number) => void;
  /**
   * Submits the queued sends, right before the pump enters the kernel; returns whether some are
   * left for want of SQ room. Called without a microtask checkpoint after it.
   */
  readonly onFlush?: () => boolean;
}

export interface Binding {
  readonly NativeLoop: new (options: NativeLoopOptions) => NativeLoop;
  readonly kinds: Readonly<Record<string, number>>;
  readonly maxIov: number;
}

let cached: Binding | undefined;

/**
 * Loads the addon, or throws `ERR_IOLEASE_UNSUPPORTED_PLATFORM` where io_uring cannot exist
 * (ERR-4). `platform` is a parameter so the decision is testable on Linux too.
 */
export function loadBinding(platform: string = process.platform): Binding {
  if (platform !== 'linux') {
    throw new IoleaseError(
      ErrorCode.UNSUPPORTED_PLATFORM,
      `@iolease/reference-uring needs Linux io_uring; this is ${platform}. Use the node:net backend of @iolease/adapters.`,
    );
  }
  if (cached !== undefined) return cached;
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  const { binding } = loadAddon<Binding & { unsupportedPlatform?: boolean }>(
    addonCandidates(packageDir, process.arch, process.env.IOLEASE_URING_ADDON),
  );
  if (binding.unsupportedPlatform === true) {
    throw new IoleaseError(
      ErrorCode.UNSUPPORTED_PLATFORM,
      '@iolease/reference-uring was built without io_uring support',
    );
  }
  cached = binding;
  return binding;
}
