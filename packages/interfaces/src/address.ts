import { ErrorCode, IoleaseError } from './errors.js';

/**
 * A socket address as a channel or listener reports it.
 *
 * @since 0.1.0
 */
export interface SocketAddress {
  /** The numeric address, `127.0.0.1` or `::1` style. */
  readonly address: string;
  /** The address family. */
  readonly family: 'IPv4' | 'IPv6';
  /** The port number. */
  readonly port: number;
}

const IPV4_PART = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Whether `text` is a dotted-quad IPv4 address without leading zeros. */
function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => IPV4_PART.test(p));
}

/** Whether `text` is an IPv6 address: eight groups, `::` at most once, an IPv4 tail allowed. */
function isIPv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last?.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1; // an IPv4 tail stands for two groups
  }
  if (!all.every((g) => IPV6_GROUP.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * A host as {@link parseNumericHost} returns it.
 *
 * @since 0.1.0
 */
export interface NumericHost {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address in text form, without brackets. */
  readonly address: string;
}

/**
 * The numeric host a backend binds or connects to (LIFE-1): `undefined` and `'localhost'` mean
 * `127.0.0.1`; an IPv6 address may come in brackets. Names are not resolved: anything else is an
 * argument error (ERR-2).
 *
 * @param host - the `host` option of `listen()` or `connect()`
 * @returns the family and the address in text form
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` or `ERR_IOLEASE_INVALID_ARG_VALUE`
 * @since 0.1.0
 */
export function parseNumericHost(host: unknown): NumericHost {
  if (host === undefined || host === 'localhost') return { family: 4, address: '127.0.0.1' };
  if (typeof host !== 'string') {
    throw new IoleaseError(ErrorCode.INVALID_ARG_TYPE, 'The "options.host" argument must be of type string');
  }
  if (isIPv4(host)) return { family: 4, address: host };
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv6(bare)) return { family: 6, address: bare };
  throw new IoleaseError(
    ErrorCode.INVALID_ARG_VALUE,
    `The "options.host" argument must be a numeric IPv4 or IPv6 address or "localhost". Received ${JSON.stringify(host)}`,
  );
}
