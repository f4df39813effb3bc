import { describe, expect, it } from 'vitest';
import { ADAPTIVE_SIZE_TABLE, AdaptiveRecvByteBufferSizer, ErrorCode } from '../src/index.ts';

// Each case: options, then a list of [bytesRead, capacity, expected nextReadSize after record].
type Step = readonly [bytesRead: number, capacity: number, expected: number];
interface Case {
  readonly name: string;
  readonly options?: ConstructorParameters<typeof AdaptiveRecvByteBufferSizer>[0];
  readonly start: number;
  readonly steps: readonly Step[];
}

const cases: readonly Case[] = [
  {
    name: 'SIZER-6 defaults start at 2048',
    start: 2048,
    steps: [],
  },
  {
    name: 'SIZER-8 a full read jumps four entries: 2048 → 32768 → 65536 (capped)',
    start: 2048,
    steps: [
      [2048, 2048, 32768],
      [32768, 32768, 65536],
      [65536, 65536, 65536],
    ],
  },
  {
    name: 'SIZER-8 a read reaching the preference but not filling a larger buffer is not full',
    start: 2048,
    steps: [
      [2048, 16384, 2048],
      [16384, 16384, 32768],
    ],
  },
  {
    name: 'SIZER-8 a full buffer smaller than the preference grows rather than shrinks',
    options: { initial: 65536 },
    start: 65536,
    steps: [
      [1024, 1024, 65536],
      [1024, 1024, 65536],
    ],
  },
  {
    name: 'SIZER-9 two consecutive small reads shrink one entry; one does not',
    start: 2048,
    steps: [
      [100, 2048, 2048],
      [100, 2048, 1024],
      [100, 1024, 1024],
      [100, 1024, 512],
    ],
  },
  {
    name: 'SIZER-9 a read equal to the entry below counts as small',
    start: 2048,
    steps: [
      [1024, 2048, 2048],
      [1024, 2048, 1024],
    ],
  },
  {
    name: 'SIZER-10 a medium read between two small ones disarms the shrink',
    start: 2048,
    steps: [
      [100, 2048, 2048],
      [1500, 2048, 2048],
      [100, 2048, 2048],
      [100, 2048, 1024],
    ],
  },
  {
    name: 'SIZER-8 a full read disarms a pending shrink',
    start: 2048,
    steps: [
      [100, 2048, 2048],
      [2048, 2048, 32768],
      [100, 32768, 32768],
    ],
  },
  {
    name: 'SIZER-9 below 512 the table steps by 16',
    options: { minimum: 16, initial: 512 },
    start: 512,
    steps: [
      [10, 512, 512],
      [10, 512, 496],
      [10, 496, 496],
      [10, 496, 480],
    ],
  },
  {
    name: 'SIZER-9 shrinking stops at the minimum',
    options: { minimum: 1024, initial: 1024 },
    start: 1024,
    steps: [
      [1, 1024, 1024],
      [1, 1024, 1024],
      [1, 1024, 1024],
    ],
  },
  {
    name: 'SIZER-6 bounds snap inward to table entries',
    options: { minimum: 100, initial: 100, maximum: 5000 },
    start: 112,
    steps: [
      [112, 112, 176],
      [176, 176, 240],
      [240, 240, 304],
      [304, 304, 368],
      [368, 368, 432],
      [432, 432, 496],
      [496, 496, 4096],
      [4096, 4096, 4096],
    ],
  },
  {
    name: 'SIZER-7 a zero-byte read is small',
    start: 2048,
    steps: [
      [0, 2048, 2048],
      [0, 2048, 1024],
    ],
  },
];

describe('AdaptiveRecvByteBufferSizer follows the spec table', () => {
  for (const c of cases) {
    it(c.name, () => {
      const sizer = new AdaptiveRecvByteBufferSizer(c.options);
      expect(sizer.nextReadSize()).toBe(c.start);
      c.steps.forEach(([bytesRead, capacity, expected], i) => {
        sizer.record(bytesRead, capacity);
        expect(sizer.nextReadSize(), `after step ${i}: record(${bytesRead}, ${capacity})`).toBe(expected);
      });
    });
  }

  it('SIZER-5 the table is 16..496 by 16, then powers of two to 2^30', () => {
    expect(ADAPTIVE_SIZE_TABLE.slice(0, 3)).toEqual([16, 32, 48]);
    expect(ADAPTIVE_SIZE_TABLE[30]).toBe(496);
    expect(ADAPTIVE_SIZE_TABLE[31]).toBe(512);
    expect(ADAPTIVE_SIZE_TABLE.at(-1)).toBe(2 ** 30);
    expect(ADAPTIVE_SIZE_TABLE).toHaveLength(31 + 22);
    expect(Object.isFrozen(ADAPTIVE_SIZE_TABLE)).toBe(true);
  });

  it('SIZER-6 exposes the effective bounds', () => {
    const sizer = new AdaptiveRecvByteBufferSizer({ minimum: 100, maximum: 5000, initial: 300 });
    expect([sizer.minimum, sizer.nextReadSize(), sizer.maximum]).toEqual([112, 304, 4096]);
  });
});

describe('AdaptiveRecvByteBufferSizer rejects bad arguments with coded errors', () => {
  const badOptions: readonly [unknown, string][] = [
    [null, ErrorCode.INVALID_ARG_TYPE],
    ['big', ErrorCode.INVALID_ARG_TYPE],
    [{ minimum: '64' }, ErrorCode.INVALID_ARG_TYPE],
    [{ minimum: 0 }, ErrorCode.OUT_OF_RANGE],
    [{ minimum: 1.5 }, ErrorCode.OUT_OF_RANGE],
    [{ maximum: 2 ** 30 + 1 }, ErrorCode.OUT_OF_RANGE],
    [{ minimum: 4096, maximum: 1024 }, ErrorCode.OUT_OF_RANGE],
    [{ initial: 70000 }, ErrorCode.OUT_OF_RANGE],
    [{ initial: 32 }, ErrorCode.OUT_OF_RANGE],
    [{ minimum: 600, maximum: 1000, initial: 700 }, ErrorCode.OUT_OF_RANGE],
    [{ minimum: 1, maximum: 15, initial: 8 }, ErrorCode.OUT_OF_RANGE],
    [{ maximum: Number.NaN }, ErrorCode.OUT_OF_RANGE],
  ];
  for (const [options, code] of badOptions) {
    it(`SIZER-6 ${JSON.stringify(options)} → ${code}`, () => {
      expect(() => new AdaptiveRecvByteBufferSizer(options as never)).toThrow(expect.objectContaining({ code }));
    });
  }

  const badRecords: readonly [unknown, unknown, string][] = [
    ['1', 2048, ErrorCode.INVALID_ARG_TYPE],
    [1, undefined, ErrorCode.INVALID_ARG_TYPE],
    [-1, 2048, ErrorCode.OUT_OF_RANGE],
    [2049, 2048, ErrorCode.OUT_OF_RANGE],
    [1, 0, ErrorCode.OUT_OF_RANGE],
    [0.5, 2048, ErrorCode.OUT_OF_RANGE],
    [Number.POSITIVE_INFINITY, 2048, ErrorCode.OUT_OF_RANGE],
  ];
  for (const [bytesRead, capacity, code] of badRecords) {
    it(`SIZER-11 record(${String(bytesRead)}, ${String(capacity)}) → ${code}, state unchanged`, () => {
      const sizer = new AdaptiveRecvByteBufferSizer();
      sizer.record(100, 2048); // arm a shrink: a bad call must not disturb it
      expect(() => sizer.record(bytesRead as number, capacity as number)).toThrow(expect.objectContaining({ code }));
      sizer.record(100, 2048);
      expect(sizer.nextReadSize()).toBe(1024);
    });
  }
});
