/**
 * `@iolease/backend-core`: the machinery every iolease backend needs in the same form, so that
 * backends agree on callback order, codes and messages, and a new backend is only its own I/O.
 *
 * An application never imports this package; it types against `@iolease/interfaces`. A backend
 * author builds on it: {@link PooledLease} (spec §5), {@link DeferQueue} (LOOP-2),
 * {@link Writability} (§9), {@link PressureNotifier} (PRESS-4), {@link LeakTracker} (§11),
 * {@link WritePins} (LEASE-2), {@link guardConnect} (LIFE-16) and the error factories. Each rule
 * cited as `AREA-N` is a requirement of the iolease specification.
 *
 * @packageDocumentation
 */

export { BufferMemory, type BufferMemoryOptions } from './buffer-memory.js';
export { ChannelCore } from './channel-core.js';
export type {
  ChannelCoreInit,
  ChannelCoreLoop,
  ChannelCorePool,
  ChannelSettings,
  ChannelTransport,
} from './channel-transport.js';
export { abortedError, guardConnect } from './connect-guard.js';
export { DeferQueue } from './defer-queue.js';
export { channelClosedError, loopClosedError, writeAfterEndError } from './errors.js';
export { LeakTracker, leakTrackerFor } from './leak-tracker.js';
export { LoopCore, type LoopStatisticsParts } from './loop-core.js';
export { PoolLedger, type PoolLedgerOptions } from './pool-ledger.js';
export { poolStatistics } from './pool-statistics.js';
export {
  ChannelLeases,
  type LeaseOwner,
  type LeaseUntracker,
  PooledLease,
  type PooledLeaseInit,
} from './pooled-lease.js';
export { PressureNotifier } from './pressure-notifier.js';
export { type CheckedConnect, type CheckedLoop, checkConnect, checkListen } from './requests.js';
export { reportChannelError, reportUncaught } from './uncaught.js';
export { Writability, type WritabilityInit } from './writability.js';
export { RELEASE_UNDER_WRITE_WARNING, WritePins, type WritePinsOptions } from './write-pins.js';
export { DETACHED, MAX_SEND_CHUNK, type PendingWrite, WriteQueue, writeDone } from './write-queue.js';
export { snapshotWrite, writeIntact } from './write-snapshot.js';
