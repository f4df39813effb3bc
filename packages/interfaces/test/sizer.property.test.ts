import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADAPTIVE_SIZE_TABLE, AdaptiveRecvByteBufferSizer } from '../src/index.ts';

const tableEntry = fc.constantFrom(...ADAPTIVE_SIZE_TABLE.filter((s) => s <= 1 << 20));

// Bounds drawn so that at least one table entry lies within them.
const bounds = fc
  .tuple(tableEntry, tableEntry, tableEntry)
  .map(([a, b, c]) => [a, b, c].sort((x, y) => x - y) as [number, number, number])
  .map(([minimum, initial, maximum]) => ({ minimum, initial, maximum }));

// A read as the backend reports it: a capacity around the preference, bytes within it.
const read = fc.record({
  capacityFactor: fc.constantFrom(0.25, 0.5, 1, 1, 1, 2),
  fill: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
});

describe('AdaptiveRecvByteBufferSizer properties', () => {
  it('SIZER-7 the preference is always a table entry within [minimum, maximum]', () => {
    fc.assert(
      fc.property(bounds, fc.array(read, { maxLength: 60 }), (options, reads) => {
        const sizer = new AdaptiveRecvByteBufferSizer(options);
        for (const r of reads) {
          const capacity = Math.max(1, Math.floor(sizer.nextReadSize() * r.capacityFactor));
          sizer.record(Math.floor(capacity * r.fill), capacity);
          const next = sizer.nextReadSize();
          expect(ADAPTIVE_SIZE_TABLE).toContain(next);
          expect(next).toBeGreaterThanOrEqual(options.minimum);
          expect(next).toBeLessThanOrEqual(options.maximum);
        }
      }),
    );
  });

  it('SIZER-8 a full read never shrinks the preference', () => {
    fc.assert(
      fc.property(bounds, fc.array(read, { maxLength: 30 }), read, (options, history, last) => {
        const sizer = new AdaptiveRecvByteBufferSizer(options);
        for (const r of history) {
          const capacity = Math.max(1, Math.floor(sizer.nextReadSize() * r.capacityFactor));
          sizer.record(Math.floor(capacity * r.fill), capacity);
        }
        const before = sizer.nextReadSize();
        const capacity = Math.max(1, Math.floor(before * last.capacityFactor));
        sizer.record(capacity, capacity);
        expect(sizer.nextReadSize()).toBeGreaterThanOrEqual(before);
      }),
    );
  });

  it('SIZER-9 one small read alone never shrinks the preference', () => {
    fc.assert(
      fc.property(bounds, fc.array(read, { maxLength: 30 }), (options, history) => {
        const sizer = new AdaptiveRecvByteBufferSizer(options);
        for (const r of history) {
          const capacity = Math.max(1, Math.floor(sizer.nextReadSize() * r.capacityFactor));
          sizer.record(Math.floor(capacity * r.fill), capacity);
        }
        // A medium-or-full read disarms any pending shrink; then one small read must not shrink.
        const size = sizer.nextReadSize();
        sizer.record(size, size);
        const grown = sizer.nextReadSize();
        sizer.record(0, grown);
        expect(sizer.nextReadSize()).toBe(grown);
      }),
    );
  });
});
