import { describe, expect, it } from 'vitest';
import {
  AdaptiveRecvByteBufferSizer,
  channelTemplate,
  DEFAULT_SIZE_CLASSES,
  DEFAULT_WATER_MARKS,
  FixedRecvByteBufferSizer,
  unsupportedRequest,
  validateConnectOptions,
  validateLeakDetection,
  validateListenOptions,
  validateLoopOptions,
  validateUnixPath,
} from '../src/index.ts';

describe('options', () => {
  it('ERR-2 POOL-2 WATER-1 DIAG-1 validateLoopOptions fills the defaults and refuses bad options with a code', () => {
    expect(validateLoopOptions({})).toEqual({
      sizeClasses: DEFAULT_SIZE_CLASSES,
      waterMarks: DEFAULT_WATER_MARKS,
      poison: false,
      leakDetection: 'off',
    });
    const given = validateLoopOptions({
      sizeClasses: [{ size: 1024, count: 2 }],
      waterMarks: { low: 1, high: 2 },
      diagnostics: { poison: true, leakDetection: 'all' },
    });
    expect(given).toEqual({
      sizeClasses: [{ size: 1024, count: 2 }],
      waterMarks: { low: 1, high: 2 },
      poison: true,
      leakDetection: 'all',
    });
    const refused = (options: unknown, code: string) =>
      expect(() => validateLoopOptions(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code }),
      );
    refused(null, 'ERR_IOLEASE_INVALID_ARG_TYPE');
    refused({ sizeClasses: [] }, 'ERR_IOLEASE_INVALID_ARG_VALUE');
    refused({ waterMarks: { low: 3, high: 1 } }, 'ERR_IOLEASE_INVALID_ARG_VALUE');
    refused({ diagnostics: 5 }, 'ERR_IOLEASE_INVALID_ARG_TYPE');
    refused({ diagnostics: { poison: 'yes' } }, 'ERR_IOLEASE_INVALID_ARG_TYPE');
    refused({ diagnostics: { leakDetection: 'some' } }, 'ERR_IOLEASE_INVALID_ARG_VALUE');
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

  it('ERR-2 validateLeakDetection accepts the three levels and rejects anything else', () => {
    expect([undefined, 'off', 'sampled', 'all'].map(validateLeakDetection)).toEqual(['off', 'off', 'sampled', 'all']);
    expect(() => validateLeakDetection('sometimes')).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
  });
});

describe('capabilities', () => {
  it('LOOP-9 unsupportedRequest names a missing reusePort, IPv6 or Unix sockets, and lets the rest through', () => {
    const none = { zeroCopySend: false, reusePort: false, ipv6: false, unixSockets: false };
    const all = { zeroCopySend: true, reusePort: true, ipv6: true, unixSockets: true };
    const code = 'ERR_IOLEASE_FEATURE_UNSUPPORTED';
    expect(unsupportedRequest(none, { reusePort: true, family: 4 })?.code).toBe(code);
    expect(unsupportedRequest(none, { family: 6 })?.code).toBe(code);
    expect(unsupportedRequest(none, { family: 'unix' })?.code).toBe(code);
    expect(unsupportedRequest(none, { reusePort: false, family: 4 })).toBeUndefined();
    expect(unsupportedRequest(all, { reusePort: true, family: 6 })).toBeUndefined();
    expect(unsupportedRequest(all, { family: 'unix' })).toBeUndefined();
  });

  it('LIFE-20 validateUnixPath takes paths up to 107 UTF-8 bytes and abstract names; refuses the rest with a code', () => {
    expect(validateUnixPath('/run/app.sock')).toBe('/run/app.sock');
    expect(validateUnixPath('\0abstract')).toBe('\0abstract');
    expect(validateUnixPath(`/${'a'.repeat(106)}`)).toHaveLength(107);
    const invalid = (path: unknown, code: string) =>
      expect(() => validateUnixPath(path), String(path)).toThrow(expect.objectContaining({ code }));
    invalid(`/${'a'.repeat(107)}`, 'ERR_IOLEASE_INVALID_ARG_VALUE');
    invalid(`/${'é'.repeat(54)}`, 'ERR_IOLEASE_INVALID_ARG_VALUE'); // 109 bytes in 55 characters
    invalid('', 'ERR_IOLEASE_INVALID_ARG_VALUE');
    invalid('\0', 'ERR_IOLEASE_INVALID_ARG_VALUE');
    invalid('/tmp/a\0b', 'ERR_IOLEASE_INVALID_ARG_VALUE');
    invalid(7, 'ERR_IOLEASE_INVALID_ARG_TYPE');
  });

  it('LIFE-20 listen and connect options: a path goes without host, port, reusePort and ipv6Only', () => {
    const marks = { low: 1, high: 2 };
    expect(validateListenOptions({ path: '/tmp/x.sock' }, marks)).toMatchObject({ path: '/tmp/x.sock', port: 0 });
    expect(validateConnectOptions({ path: '/tmp/x.sock' }, marks)).toMatchObject({ path: '/tmp/x.sock', port: 0 });
    expect(validateListenOptions({ port: 0 }, marks).path).toBeUndefined();
    for (const extra of [{ port: 0 }, { host: '127.0.0.1' }, { reusePort: true }, { ipv6Only: false }]) {
      expect(() => validateListenOptions({ path: '/tmp/x.sock', ...extra }, marks)).toThrow(
        expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
      );
    }
    expect(() => validateConnectOptions({ path: '/tmp/x.sock', port: 80 }, marks)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    expect(() => validateListenOptions({}, marks)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
  });
});
