import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIZE_CLASSES,
  DEFAULT_WATER_MARKS,
  ErrorCode,
  IoleaseSystemError,
  isIoleaseError,
  MAX_SIZE_CLASSES,
  sizeClassIndexFor,
  validateSizeClasses,
  validateWaterMarks,
} from '../src/index.ts';

describe('size classes', () => {
  const sizes = [512, 2048, 16384, 65536];

  it.each([
    [1, 0],
    [512, 0],
    [513, 1],
    [2048, 1],
    [4096, 2],
    [65536, 3],
    [1 << 20, 3],
  ])('POOL-3 preference %i maps to class index %i', (preferred, index) => {
    expect(sizeClassIndexFor(preferred, sizes)).toBe(index);
  });

  it('POOL-2 the default configuration is valid and bounded', () => {
    const classes = validateSizeClasses(DEFAULT_SIZE_CLASSES);
    expect(classes.map((c) => c.size)).toEqual(sizes);
    const total = classes.reduce((sum, c) => sum + c.size * c.count, 0);
    expect(total).toBe(4 * 1024 * 1024);
  });

  it.each([
    [{}, ErrorCode.INVALID_ARG_TYPE],
    [[], ErrorCode.INVALID_ARG_VALUE],
    [[null], ErrorCode.INVALID_ARG_TYPE],
    [[{ size: 512, count: 0 }], ErrorCode.OUT_OF_RANGE],
    [[{ size: 512, count: 32769 }], ErrorCode.OUT_OF_RANGE],
    [[{ size: 0, count: 1 }], ErrorCode.OUT_OF_RANGE],
    [[{ size: '512', count: 1 }], ErrorCode.INVALID_ARG_TYPE],
    [
      [
        { size: 2048, count: 1 },
        { size: 512, count: 1 },
      ],
      ErrorCode.INVALID_ARG_VALUE,
    ],
    [
      [
        { size: 512, count: 1 },
        { size: 512, count: 1 },
      ],
      ErrorCode.INVALID_ARG_VALUE,
    ],
  ])('POOL-2 rejects %j with %s', (classes, code) => {
    expect(() => validateSizeClasses(classes)).toThrow(expect.objectContaining({ code }));
  });

  it('POOL-2 accepts up to MAX_SIZE_CLASSES classes and rejects one more', () => {
    const classes = (n: number) => Array.from({ length: n }, (_, i) => ({ size: 64 * (i + 1), count: 1 }));
    expect(validateSizeClasses(classes(MAX_SIZE_CLASSES))).toHaveLength(MAX_SIZE_CLASSES);
    expect(() => validateSizeClasses(classes(MAX_SIZE_CLASSES + 1))).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARG_VALUE }),
    );
  });
});

describe('water marks', () => {
  it('WATER-1 defaults are 32 KiB / 64 KiB', () => {
    expect(DEFAULT_WATER_MARKS).toEqual({ low: 32768, high: 65536 });
  });

  it.each([
    [null, ErrorCode.INVALID_ARG_TYPE],
    [{ low: 1 }, ErrorCode.INVALID_ARG_TYPE],
    [{ low: -1, high: 5 }, ErrorCode.OUT_OF_RANGE],
    [{ low: 10, high: 5 }, ErrorCode.INVALID_ARG_VALUE],
  ])('WATER-5 rejects %j with %s', (marks, code) => {
    expect(() => validateWaterMarks(marks)).toThrow(expect.objectContaining({ code }));
  });

  it('WATER-5 accepts low == high', () => {
    expect(validateWaterMarks({ low: 7, high: 7 })).toEqual({ low: 7, high: 7 });
  });
});

describe('errors', () => {
  it('ERR-3 system errors carry the errno name as code, a negative errno and the syscall', () => {
    const e = new IoleaseSystemError('ECONNREFUSED', 111, 'connect', '127.0.0.1:1');
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.errno).toBe(-111);
    expect(e.syscall).toBe('connect');
    expect(e.message).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(e.name).toBe('IoleaseSystemError');
    expect(isIoleaseError(e, 'ECONNREFUSED')).toBe(true);
    expect(isIoleaseError(new Error('x'))).toBe(false);
  });

  it('ERR-1 every code is namespaced and unique', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_IOLEASE_[A-Z_]+$/);
  });
});
