import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LEAK_SAMPLING_INTERVAL, type LeakReport, type Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import {
  ChannelLeases,
  channelClosedError,
  DeferQueue,
  LeakTracker,
  loopClosedError,
  PooledLease,
  PressureNotifier,
  poolStatistics,
  Writability,
  WritePins,
  writeAfterEndError,
} from '../src/index.ts';

describe('backend support', () => {
  it('LOOP-2 DeferQueue runs tasks later, in order, in one batch', async () => {
    const queue = new DeferQueue();
    const log: string[] = [];
    queue.defer(() => log.push('a'));
    queue.defer(() => {
      log.push('b');
      queue.defer(() => log.push('d')); // deferred from a deferred task: still runs, after
    });
    queue.defer(() => log.push('c'));
    expect(log).toEqual([]);
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ERR-1 the write and loop errors carry their codes', () => {
    expect(channelClosedError().code).toBe('ERR_IOLEASE_CHANNEL_CLOSED');
    expect(writeAfterEndError().code).toBe('ERR_IOLEASE_WRITE_AFTER_END');
    expect(loopClosedError().code).toBe('ERR_IOLEASE_LOOP_CLOSED');
  });

  it('POOL-5 poolStatistics sums the classes', () => {
    // Per class as the backend gives it, and as it comes out: without bytesLeased.
    const small = { size: 512, count: 4, available: 1, leased: 3, held: 1, returning: 0, quarantined: 0 };
    const large = { size: 4096, count: 2, available: 1, leased: 0, held: 0, returning: 1, quarantined: 0 };
    const stats = poolStatistics([
      { ...small, bytesLeased: 700, pressureEvents: 2, underPressure: false },
      { ...large, bytesLeased: 0, pressureEvents: 1, underPressure: true },
    ]);
    expect(stats).toEqual({
      classes: [
        { ...small, pressureEvents: 2, underPressure: false },
        { ...large, pressureEvents: 1, underPressure: true },
      ],
      leasesOut: 3,
      bytesLeased: 700,
      capacityBytes: 512 * 4 + 4096 * 2,
      pressureEvents: 3,
    });
  });
});

describe('Writability', () => {
  /** A Writability whose deferred tasks wait in `queue` until `run()`. */
  function writability(marks: { low: number; high: number }) {
    const changes: boolean[] = [];
    const queue: (() => void)[] = [];
    let open = true;
    const w = new Writability({
      marks,
      defer: (task) => queue.push(task),
      isOpen: () => open,
      notify: (writable) => changes.push(writable),
    });
    const run = () => {
      for (const task of queue.splice(0)) task();
    };
    return { w, changes, run, close: () => (open = false) };
  }

  it('LOOP-2 WATER-4 delivers each change on a later turn, and none once the channel closed', () => {
    const { w, changes, run, close } = writability({ low: 10, high: 20 });
    w.add(21);
    expect([w.writable, changes]).toEqual([false, []]);
    run();
    expect(changes).toEqual([false]);
    w.remove(21);
    w.settle();
    close();
    run();
    expect(w.writable).toBe(true);
    expect(changes).toEqual([false]);
  });

  it('WATER-2 WATER-3 WATER-4 turns unwritable above high, writable at low after settle, once per change', () => {
    const { w, changes, run } = writability({ low: 10, high: 20 });
    w.add(20);
    expect([w.writable, w.pendingBytes]).toEqual([true, 20]);
    w.add(1);
    expect(w.writable).toBe(false);
    w.add(100);
    w.remove(111);
    expect([w.writable, w.pendingBytes]).toEqual([false, 10]); // not before settle()
    w.settle();
    w.settle();
    expect(w.writable).toBe(true);
    run();
    expect(changes).toEqual([false, true]);
  });

  it('WATER-5 setMarks validates and applies the new marks at once', () => {
    const { w, changes, run } = writability({ low: 10, high: 20 });
    w.add(15);
    w.setMarks({ low: 5, high: 12 });
    expect(w.writable).toBe(false);
    w.setMarks({ low: 15, high: 30 });
    expect(w.writable).toBe(true);
    expect(() => w.setMarks({ low: 3, high: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    run();
    expect(changes).toEqual([false, true]);
  });
});

describe('LeakTracker', () => {
  const gc = (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();
  const fakeLease = (id: number): Lease => ({
    id,
    bytes: new Uint8Array(1),
    length: 1,
    capacity: 1,
    sizeClass: 512,
    released: false,
    release() {},
  });
  async function collect(tracker: LeakTracker, expected: number): Promise<LeakReport[]> {
    const reports: LeakReport[] = [];
    tracker.subscribe((r) => reports.push(r));
    for (let i = 0; i < 50 && reports.length < expected; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return reports;
  }

  it('DIAG-1 at level sampled tracks one lease in LEAK_SAMPLING_INTERVAL', async () => {
    const tracker = new LeakTracker('sampled', queueMicrotask);
    for (let i = 0; i < 2 * LEAK_SAMPLING_INTERVAL; i++) tracker.track(fakeLease(i), 7);
    const reports = await collect(tracker, 2);
    expect(reports.map((r) => r.leaseId).sort((a, b) => a - b)).toEqual([0, LEAK_SAMPLING_INTERVAL]);
    expect(tracker.leaksDetected).toBe(2);
  });

  it('DIAG-2 an untracked (released) lease is never reported; a dropped one is, with its read site', async () => {
    const tracker = new LeakTracker('all', queueMicrotask);
    const kept = fakeLease(1);
    tracker.track(kept, 3);
    tracker.untrack(kept);
    tracker.track(fakeLease(2), 3);
    const reports = await collect(tracker, 1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ leaseId: 2, channelId: 3, sizeClass: 512 });
    expect(reports[0]?.acquisitionSite).toContain('lease 2 delivered here');
    expect(kept.id).toBe(1); // kept alive until here
  });
});

describe('WritePins', () => {
  it('LEASE-10 a release waits for every write that sends the buffer, then happens once', () => {
    const buffers = [0, 1, 2, 3].map(() => new ArrayBuffer(100));
    const given: [number, number, number][] = [];
    let reports = 0;
    const pins = new WritePins([4], {
      give: (c, b, n) => given.push([c, b, n]),
      onFirstDeferredRelease: () => reports++,
    });
    for (const [bid, memory] of buffers.entries()) pins.track(memory, 0, bid);
    // One write sending buffers 1 and 2, and a second write of buffer 2.
    const first = pins.pin([
      new Uint8Array(buffers[1] as ArrayBuffer, 50),
      new Uint8Array(buffers[2] as ArrayBuffer, 0, 50),
    ]) as number[];
    const second = pins.pin(new Uint8Array(buffers[2] as ArrayBuffer, 0, 10)) as number[];
    expect(pins.pin(new Uint8Array(10))).toBeUndefined(); // not pool memory
    expect(pins.pin(new Uint8Array(buffers[3] as ArrayBuffer, 0, 0))).toBeUndefined(); // sends nothing
    expect(pins.deferIfPinned(0, 2, 42)).toBe(true);
    expect(pins.deferIfPinned(0, 3, 7)).toBe(false); // buffer 3 is sent by no write
    expect(reports).toBe(1);
    pins.unpin(first);
    expect(given).toEqual([]); // the second write still sends buffer 2
    pins.unpin(second);
    expect(given).toEqual([[0, 2, 42]]);
    expect(pins.deferIfPinned(0, 2, 1)).toBe(false);
  });

  it('LEASE-10 POOL-4 several releases of one buffer wait together, and come back in order with their views', () => {
    const memory = new ArrayBuffer(100);
    const given: [number, number, number, Uint8Array | undefined][] = [];
    const pins = new WritePins([1, 2], { give: (c, b, n, bytes) => given.push([c, b, n, bytes]) });
    pins.track(memory, 1, 1);
    const write = pins.pin(new Uint8Array(memory, 0, 30)) as number[];
    // Three leases of one incremental buffer, released while the write sends it.
    const views = [new Uint8Array(memory, 0, 10), new Uint8Array(memory, 10, 20), undefined];
    expect(pins.deferIfPinned(1, 1, 10, views[0])).toBe(true);
    expect(pins.deferIfPinned(1, 1, 20, views[1])).toBe(true);
    expect(pins.deferIfPinned(1, 1, 5)).toBe(true);
    pins.unpin(write);
    expect(given).toEqual([
      [1, 1, 10, views[0]],
      [1, 1, 20, views[1]],
      [1, 1, 5, undefined],
    ]);
    // Nothing waits any more: a later write and release of the buffer start afresh.
    const again = pins.pin(new Uint8Array(memory, 0, 1)) as number[];
    expect(pins.deferIfPinned(1, 1, 7)).toBe(true);
    pins.unpin(again);
    expect(given.at(-1)).toEqual([1, 1, 7, undefined]);
    expect(given).toHaveLength(4);
  });

  it('LEASE-10 a buffer pinned and released again while its waiting releases are given back waits anew', () => {
    const memory = new ArrayBuffer(64);
    const given: number[] = [];
    let next: number[] | undefined;
    const pins: WritePins = new WritePins([1], {
      // As a pool's give: a buffer still pinned keeps its release waiting.
      give: (c, b, n) => {
        if (pins.deferIfPinned(c, b, n)) return;
        given.push(n);
        // The first give leads to a new write of the same buffer and a release under it.
        if (n === 1) {
          next = pins.pin(new Uint8Array(memory, 0, 8));
          expect(pins.deferIfPinned(0, 0, 3)).toBe(true);
        }
      },
    });
    pins.track(memory, 0, 0);
    const write = pins.pin(new Uint8Array(memory)) as number[];
    pins.deferIfPinned(0, 0, 1);
    pins.deferIfPinned(0, 0, 2);
    pins.unpin(write);
    // The first release went back; the new write pinned the buffer before the second did, so the
    // second waits for that write too, behind the release made under it.
    expect(given).toEqual([1]);
    expect(next).toBeDefined();
    pins.unpin(next as number[]);
    expect(given).toEqual([1, 3, 2]);
  });
});

describe('listeners that throw', () => {
  it('PRESS-4 LOOP-5 a pressure listener that throws is reported, and the others still hear of the change', () => {
    const notifier = new PressureNotifier((task) => task());
    const heard: boolean[] = [];
    notifier.subscribe(() => {
      throw new Error('listener bug');
    });
    notifier.subscribe((event) => heard.push(event.underPressure));
    // reportUncaught throws from a microtask; catch that microtask instead of letting it fly.
    const reported: (() => void)[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (callback) => {
      reported.push(callback);
    };
    try {
      notifier.notify(512, true);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(heard).toEqual([true]);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toThrow('listener bug');
  });
});

describe('ChannelLeases', () => {
  it("PRESS-9 counts a channel's buffers, hands them to the pool, and says once when it fell below its limit", () => {
    const given: number[] = [];
    let below = 0;
    const leases = new ChannelLeases({ give: (_c, bufferId) => given.push(bufferId) }, 2, () => below++);
    leases.taken();
    expect(leases.belowMax).toBe(true);
    leases.taken();
    expect(leases.belowMax).toBe(false);
    leases.give(0, 7, 10);
    expect([leases.held, leases.belowMax, below, given]).toEqual([1, true, 1, [7]]);
    leases.give(0, 8, 10);
    expect([leases.held, below, given]).toEqual([0, 1, [7, 8]]);
  });
});

describe('PooledLease', () => {
  it('LEASE-3 POOL-4 gives its buffer back once; capacity is the class size unless the read asked for another', () => {
    const given: [number, number, number][] = [];
    const owner = { give: (c: number, b: number, length: number) => given.push([c, b, length]) };
    const lease = new PooledLease({
      owner,
      id: 1,
      classIndex: 2,
      bufferId: 7,
      view: new Uint8Array(5),
      sizeClass: 4096,
    });
    expect([lease.id, lease.length, lease.capacity, lease.sizeClass]).toEqual([1, 5, 4096, 4096]);
    lease.release();
    expect(() => lease.release()).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_LEASE_RELEASED' }));
    expect(() => lease.bytes).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_LEASE_RELEASED' }));
    expect(given).toEqual([[2, 7, 5]]);
    const landed = new PooledLease({
      owner,
      id: 2,
      classIndex: 3,
      bufferId: 0,
      view: new Uint8Array(1),
      sizeClass: 65536,
      capacity: 512,
    });
    expect([landed.capacity, landed.sizeClass]).toEqual([512, 65536]);
  });
});
