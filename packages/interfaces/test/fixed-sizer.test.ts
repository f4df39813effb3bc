import { describe, expect, it } from 'vitest';
import { ErrorCode, FixedRecvByteBufferSizer, IoleaseError } from '../src/index.ts';

describe('FixedRecvByteBufferSizer', () => {
  it('SIZER-4 always asks for its size, whatever was read', () => {
    const sizer = new FixedRecvByteBufferSizer(16384);
    for (const [n, cap] of [
      [16384, 16384],
      [1, 16384],
      [0, 65536],
    ] as const) {
      sizer.record(n, cap);
      expect(sizer.nextReadSize()).toBe(16384);
    }
    expect(sizer.size).toBe(16384);
  });

  it.each([
    ['4096', ErrorCode.INVALID_ARG_TYPE],
    [undefined, ErrorCode.INVALID_ARG_TYPE],
    [0, ErrorCode.OUT_OF_RANGE],
    [-5, ErrorCode.OUT_OF_RANGE],
    [100.5, ErrorCode.OUT_OF_RANGE],
    [2 ** 30 + 1, ErrorCode.OUT_OF_RANGE],
  ])('SIZER-4 new FixedRecvByteBufferSizer(%s) throws %s', (size, code) => {
    let caught: unknown;
    try {
      new FixedRecvByteBufferSizer(size as number);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IoleaseError);
    expect((caught as IoleaseError).code).toBe(code);
    expect((caught as IoleaseError).message).toContain('size');
  });

  it('SIZER-11 validates record() arguments', () => {
    const sizer = new FixedRecvByteBufferSizer(512);
    expect(() => sizer.record(600, 512)).toThrow(expect.objectContaining({ code: ErrorCode.OUT_OF_RANGE }));
  });
});
