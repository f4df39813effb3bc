import { describe, expect, it } from 'vitest';
import {
  AdaptiveRecvByteBufferSizer,
  channelClosedError,
  channelTemplate,
  DEFAULT_WATER_MARKS,
  DeferQueue,
  FixedRecvByteBufferSizer,
  loopClosedError,
  poolStatistics,
  Writability,
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

  it('ERR-2 WATER-1 channelTemplate fills defaults and rejects bad options', () => {
    const t = channelTemplate({}, DEFAULT_WATER_MARKS);
    expect(t).toMatchObject({ autoRead: true, noDelay: true, waterMarks: DEFAULT_WATER_MARKS });
    expect(t.sizer()).toBeInstanceOf(AdaptiveRecvByteBufferSizer);
    expect(t.sizer()).not.toBe(t.sizer()); // one sizer per channel
    const fixed = channelTemplate(
      { sizer: () => new FixedRecvByteBufferSizer(100), autoRead: false },
      DEFAULT_WATER_MARKS,
    );
    expect(fixed.autoRead).toBe(false);
    expect(fixed.sizer().nextReadSize()).toBe(100);
    expect(() => channelTemplate({ sizer: 5 as never }, DEFAULT_WATER_MARKS)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(() => channelTemplate({ waterMarks: { low: 5, high: 1 } }, DEFAULT_WATER_MARKS)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
  });

  it('POOL-5 poolStatistics sums the classes', () => {
    const stats = poolStatistics([
      { size: 512, count: 4, available: 1, leased: 3, bytesLeased: 700, pressureEvents: 2, underPressure: false },
      { size: 4096, count: 2, available: 2, leased: 0, bytesLeased: 0, pressureEvents: 1, underPressure: true },
    ]);
    expect(stats).toEqual({
      classes: [
        { size: 512, count: 4, available: 1, leased: 3, pressureEvents: 2, underPressure: false },
        { size: 4096, count: 2, available: 2, leased: 0, pressureEvents: 1, underPressure: true },
      ],
      leasesOut: 3,
      bytesLeased: 700,
      capacityBytes: 512 * 4 + 4096 * 2,
      pressureEvents: 3,
    });
  });
});

describe('Writability', () => {
  it('WATER-2 WATER-3 WATER-4 turns unwritable above high, writable at low after settle, once per change', () => {
    const changes: boolean[] = [];
    const w = new Writability({ low: 10, high: 20 }, (writable) => changes.push(writable));
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
    expect(changes).toEqual([false, true]);
  });

  it('WATER-5 setMarks validates and applies the new marks at once', () => {
    const changes: boolean[] = [];
    const w = new Writability({ low: 10, high: 20 }, (writable) => changes.push(writable));
    w.add(15);
    w.setMarks({ low: 5, high: 12 });
    expect(w.writable).toBe(false);
    w.setMarks({ low: 15, high: 30 });
    expect(w.writable).toBe(true);
    expect(() => w.setMarks({ low: 3, high: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    expect(changes).toEqual([false, true]);
  });
});
