import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNumericHost } from '../src/index.ts';

const code = (c: string) => expect.objectContaining({ code: c });

describe('parseNumericHost', () => {
  it.each([
    [undefined, 4, '127.0.0.1'],
    ['localhost', 4, '127.0.0.1'],
    ['10.0.0.255', 4, '10.0.0.255'],
    ['::1', 6, '::1'],
    ['[::1]', 6, '::1'],
    ['fe80::1:2', 6, 'fe80::1:2'],
    ['::ffff:127.0.0.1', 6, '::ffff:127.0.0.1'],
    ['1:2:3:4:5:6:7:8', 6, '1:2:3:4:5:6:7:8'],
    ['::', 6, '::'],
  ])('LIFE-1 %s is IPv%s %s', (host, family, address) => {
    expect(parseNumericHost(host)).toEqual({ family, address });
  });

  it.each([
    'example.com',
    '999.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '::g',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '',
    '[1.2.3.4]',
    // An IPv4 tail only at the end: found by the property below, which node:net's isIPv6 refuses.
    '0.0.0.0::',
    '1.2.3.4::1',
  ])('ERR-2 rejects %j with ERR_IOLEASE_INVALID_ARG_VALUE', (host) => {
    expect(() => parseNumericHost(host)).toThrow(code('ERR_IOLEASE_INVALID_ARG_VALUE'));
  });

  it('ERR-2 rejects a host that is not a string with ERR_IOLEASE_INVALID_ARG_TYPE', () => {
    expect(() => parseNumericHost(7)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
  });

  it("LIFE-1 agrees with node:net's isIPv4 and isIPv6 on addresses without a zone", () => {
    const token = fc.constantFrom('0', '1', '9', '25', '255', '256', '01', 'a', 'ff', 'FFFF', '12345', 'g', '');
    const candidate = fc
      .array(fc.tuple(token, fc.constantFrom('.', ':', '::')), { minLength: 1, maxLength: 9 })
      .map((parts) =>
        parts
          .map(([t, sep]) => t + sep)
          .join('')
          .replace(/[.:]$/, ''),
      );
    fc.assert(
      fc.property(fc.oneof(candidate, fc.ipV4(), fc.ipV6()), (text) => {
        const expected = isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
        let got = 0;
        try {
          got = parseNumericHost(text).family;
        } catch {
          got = 0;
        }
        return got === expected || text === 'localhost';
      }),
      { numRuns: 5000 },
    );
  });
});
