// runConformance()'s own input: a backend description it cannot use is refused before any suite
// is registered, with a coded error naming the field.
import { describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.ts';

const backend = { name: 'never run', createLoop: () => Promise.reject(new Error('not called')) };

describe('runConformance()', () => {
  it.each([
    [0, 'ERR_IOLEASE_OUT_OF_RANGE'],
    [1.5, 'ERR_IOLEASE_OUT_OF_RANGE'],
    ['60000', 'ERR_IOLEASE_INVALID_ARG_TYPE'],
  ])('refuses testTimeoutMs %j with %s, naming it', (testTimeoutMs, code) => {
    expect(() => runConformance({ ...backend, testTimeoutMs: testTimeoutMs as number })).toThrow(
      expect.objectContaining({ code, message: expect.stringContaining('backend.testTimeoutMs') }),
    );
  });
});
