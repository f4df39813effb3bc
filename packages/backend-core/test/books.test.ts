// The shared books and checks alone, each rule set up exactly; the kit checks them again
// through every backend built on them.
import { DEFAULT_WATER_MARKS, type LoopCapabilities, POISON_BYTE, type SizeClassConfig } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import {
  BufferMemory,
  checkConnect,
  checkListen,
  LoopCore,
  type PendingWrite,
  PoolLedger,
  WritePins,
  WriteQueue,
} from '../src/index.ts';

const classes: SizeClassConfig[] = [
  { size: 16, count: 2 },
  { size: 64, count: 1 },
];
const now = (task: () => void) => task();

describe('PoolLedger', () => {
  it('PRESS-4 PRESS-5 POOL-5 tells each transition once, counts entries, and sums the books', () => {
    const events: [number, boolean][] = [];
    const ledger = new PoolLedger(classes, { defer: now, give: () => {} });
    ledger.onPressureChange((e) => events.push([e.sizeClass, e.underPressure]));
    ledger.taken(0, 10);
    ledger.taken(0, 16);
    ledger.setPressure(0, true);
    ledger.setPressure(0, true); // no transition: nothing told, nothing counted
    expect(ledger.underPressure).toBe(true);
    ledger.hold(16, 1);
    ledger.returned(0, 10);
    ledger.setPressure(0, false);
    ledger.setPressure(0, false);
    ledger.quarantine(16, 16);
    expect(events).toEqual([
      [16, true],
      [16, false],
    ]);
    const stats = ledger.stats((i) => (i === 1 ? 1 : 0));
    expect(stats.classes[0]).toEqual({
      size: 16,
      count: 2,
      available: 1,
      leased: 0,
      held: 1,
      returning: 0,
      quarantined: 1,
      pressureEvents: 1,
      underPressure: false,
    });
    expect(stats.classes[1]).toMatchObject({ available: 0, returning: 1 });
    expect(stats).toMatchObject({ leasesOut: 0, bytesLeased: 0, capacityBytes: 16 * 2 + 64, pressureEvents: 1 });
    expect([ledger.sizeClassFor(17), ledger.classIndexFor(1), ledger.classSize(1)]).toEqual([64, 0, 64]);
  });

  it('PRESS-4 LEASE-6 once closed, tells no transition and keeps its pressure state, while the counts still change', () => {
    const events: boolean[] = [];
    const ledger = new PoolLedger(classes, { defer: now, give: () => {} });
    ledger.onPressureChange((e) => events.push(e.underPressure));
    ledger.taken(0, 10);
    ledger.taken(0, 16);
    ledger.setPressure(0, true);
    ledger.close();
    ledger.returned(0, 10);
    ledger.setPressure(0, false);
    expect(events).toEqual([true]);
    expect(ledger.underPressure).toBe(true);
    expect(ledger.stats((i) => (i === 1 ? 1 : 0)).classes[0]).toMatchObject({ available: 1, underPressure: true });
  });

  it('LEASE-10 a pool that extends the ledger takes back, through its own give, a buffer a write held', () => {
    const given: number[] = [];
    class Pool extends PoolLedger {
      give(_classIndex: number, bufferId: number): void {
        given.push(bufferId);
      }
    }
    const pool = new Pool(classes, { defer: now });
    const memory = new ArrayBuffer(16);
    pool.pins.track(memory, 0, 1);
    const pins = pool.pins.pin(new Uint8Array(memory, 0, 4)) as number[];
    expect(pool.pins.deferIfPinned(0, 1, 4)).toBe(true);
    pool.pins.unpin(pins);
    expect(given).toEqual([1]);
  });
});

describe('BufferMemory', () => {
  it('LEASE-1 LEASE-11 DIAG-3 one ArrayBuffer per buffer, nothing of a longer lease past a shorter one, poison on return', () => {
    const pins = new WritePins([2, 1], { give: () => {} });
    const memory = new BufferMemory(classes, { pins, poison: true });
    const first = memory.fill(0, 1, Uint8Array.from([1, 2, 3, 4, 5]));
    expect(first.buffer).toBe(memory.memoryOf(0, 1));
    expect(first.buffer.byteLength).toBe(16);
    const second = memory.fill(0, 1, Uint8Array.from([9]));
    expect(Array.from(new Uint8Array(second.buffer, 0, 6))).toEqual([9, 0, 0, 0, 0, 0]);
    memory.returned(0, 1);
    expect(new Uint8Array(memory.memoryOf(0, 1)).every((b) => b === POISON_BYTE)).toBe(true);
    expect(memory.memoryOf(0, 0)).not.toBe(memory.memoryOf(0, 1));
    // Tracked for the pins: a write of it pins buffer 1 of class 0.
    expect(pins.pin(second)).toEqual([1]);
  });

  it('LEASE-1 a buffer the application detached gets new memory of its own', () => {
    const created: number[] = [];
    const memory = new BufferMemory(classes, {
      pins: new WritePins([2, 1], { give: () => {} }),
      poison: false,
      create: (size) => {
        created.push(size);
        return new ArrayBuffer(size);
      },
    });
    const old = memory.fill(1, 0, Uint8Array.from([7, 7]));
    (old.buffer as ArrayBuffer).transfer();
    const fresh = memory.fill(1, 0, Uint8Array.from([8]));
    expect(fresh.buffer).not.toBe(old.buffer);
    expect(Array.from(fresh)).toEqual([8]);
    expect(created).toEqual([16, 16, 64, 64]);
  });
});

describe('LoopCore', () => {
  it('DIAG-4 counts leases, writes and submissions, and gives the equivalents a backend without a kernel queue reports', async () => {
    const core = new LoopCore('off', () => ({ quarantine: () => {} }));
    expect([core.nextChannelId(), core.nextChannelId(), core.nextLeaseId()]).toEqual([1, 2, 1]);
    core.countWrite(100);
    core.countWrite(0);
    core.countSubmission();
    const pool = new PoolLedger(classes, { defer: now, give: () => {} }).stats();
    expect(core.stats({ pool, channelsOpen: 3, listenersOpen: 1 })).toEqual({
      pool,
      channelsOpen: 3,
      listenersOpen: 1,
      leasesDelivered: 1,
      completions: 3,
      completionBatches: 3,
      submissions: 1,
      submitCalls: 1,
      writesCompleted: 2,
      bytesWritten: 100,
      zeroCopyCopied: 0,
      leaksDetected: 0,
    });
    const kernel = core.stats({
      pool,
      channelsOpen: 0,
      listenersOpen: 0,
      completions: 9,
      completionBatches: 2,
      submissions: 5,
      submitCalls: 4,
    });
    expect(kernel).toMatchObject({ completions: 9, completionBatches: 2, submissions: 5, submitCalls: 4 });
    const order: string[] = [];
    core.defer(() => order.push('later'));
    order.push('now');
    await Promise.resolve();
    expect(order).toEqual(['now', 'later']);
    expect(core.leaks).toBeUndefined(); // DIAG-5
    expect(() => core.onLeak(5 as never)).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }));
  });
});

describe('checkListen and checkConnect', () => {
  const all: LoopCapabilities = { zeroCopySend: false, reusePort: true, ipv6: true, unixSockets: true };
  const loop = (closed: boolean, capabilities = all) => ({ closed, capabilities, waterMarks: DEFAULT_WATER_MARKS });

  it('LIFE-10 ERR-2 throw on a closed loop and on bad arguments, before anything is acquired', () => {
    expect(() => checkListen(loop(true), { port: 0 }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_LOOP_CLOSED' }),
    );
    expect(() => checkConnect(loop(true), { port: 1 }, undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_LOOP_CLOSED' }),
    );
    expect(() => checkListen(loop(false), { port: 0 }, 5 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(() => checkConnect(loop(false), { port: 1 }, 5 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(() => checkConnect(loop(false), { port: 0 }, undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' }),
    );
  });

  it('LOOP-9 LIFE-16 SIZER-3 return the error to reject with: a missing capability, an aborted signal, a sizer factory that throws', () => {
    const none = { ...all, reusePort: false, ipv6: false, unixSockets: false };
    expect(checkListen(loop(false, none), { port: 0, reusePort: true }, () => undefined)).toMatchObject({
      code: 'ERR_IOLEASE_FEATURE_UNSUPPORTED',
    });
    expect(checkConnect(loop(false, none), { host: '::1', port: 1 }, undefined)).toMatchObject({
      code: 'ERR_IOLEASE_FEATURE_UNSUPPORTED',
    });
    const aborted = AbortSignal.abort('enough');
    expect(checkConnect(loop(false), { port: 1, signal: aborted }, undefined)).toMatchObject({
      code: 'ERR_IOLEASE_ABORTED',
      cause: 'enough',
    });
    const bug = new Error('factory bug');
    const sizer = () => {
      throw bug;
    };
    expect(checkConnect(loop(false), { port: 1, sizer }, undefined)).toMatchObject({
      code: 'ERR_IOLEASE_INVALID_SIZER',
      cause: bug,
    });
    const ok = checkConnect(loop(false), { port: 1, autoRead: false }, {});
    expect(ok).toMatchObject({ port: 1, settings: { autoRead: false, waterMarks: DEFAULT_WATER_MARKS } });
    expect(typeof (ok as { settings: { sizer: { nextReadSize: unknown } } }).settings.sizer.nextReadSize).toBe(
      'function',
    );
  });
});

describe('WriteQueue credit', () => {
  const write = (length: number, error?: Error): PendingWrite => ({
    data: new Uint8Array(length),
    length,
    onComplete: undefined,
    written: 0,
    error: error as never,
    counted: error === undefined,
    pins: undefined,
  });

  it('WRITE-3 WRITE-5 credits bytes to the oldest unfinished writes, skips finished ones, and fails the rest on close', () => {
    const q = new WriteQueue();
    const [a, empty, b, c] = [write(5), write(0), write(10), write(4)];
    for (const w of [a, empty, b, c]) q.push(w);
    expect(q.credit(8)).toBe(0);
    expect([a.written, empty.written, b.written, c.written]).toEqual([5, 0, 3, 0]);
    expect(q.unfinished).toBe(true);
    const closed = new Error('closed');
    q.failUnfinished(closed as never);
    expect([a.error, b.error, c.error]).toEqual([undefined, closed, closed]);
    expect(q.unfinished).toBe(false);
    expect(q.credit(3)).toBe(3); // nothing left to take it
  });
});
