import { ErrorCode, IoleaseError } from './errors.js';

/**
 * A socket address as a channel or listener reports it.
 *
 * @since 0.1.0
 */
export interface SocketAddress {
  /**
   * The numeric address, `127.0.0.1` or `::1` style; for a Unix domain socket its path (an
   * abstract name starts with `\0`), or `''` for an unnamed peer (LIFE-19).
   */
  readonly address: string;
  /** The address family. `Unix` since 0.2.0. */
  readonly family: 'IPv4' | 'IPv6' | 'Unix';
  /** The port number; 0 for a Unix domain socket. */
  readonly port: number;
}

/**
 * The longest Unix domain socket path, in UTF-8 bytes: `sun_path` holds 108 with the
 * terminating NUL (Linux; an abstract name, starting with `\0`, has the same room).
 *
 * @since 0.2.0
 */
export const MAX_UNIX_PATH_BYTES = 107;

/** The UTF-8 length of `text`, as the kernel will see it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const c of text) {
    const code = c.codePointAt(0) as number;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * Checks a Unix domain socket path for `listen({ path })` and `connect({ path })` (LIFE-20): a
 * non-empty string of at most {@link MAX_UNIX_PATH_BYTES} UTF-8 bytes, with no NUL except a
 * first one, which makes it a Linux abstract name.
 *
 * @param path - the `path` option
 * @returns the path
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` or `ERR_IOLEASE_INVALID_ARG_VALUE`
 * @since 0.2.0
 */
export function validateUnixPath(path: unknown): string {
  if (typeof path !== 'string') {
    throw new IoleaseError(ErrorCode.INVALID_ARG_TYPE, 'The "options.path" argument must be of type string');
  }
  const bytes = utf8Length(path);
  const problem =
    path.length === 0 || path === '\0'
      ? 'must not be empty'
      : bytes > MAX_UNIX_PATH_BYTES
        ? `is ${bytes} bytes long; a Unix socket path holds at most ${MAX_UNIX_PATH_BYTES}`
        : path.indexOf('\0', 1) !== -1
          ? 'must not contain a NUL byte after the first character'
          : undefined;
  if (problem !== undefined) {
    throw new IoleaseError(ErrorCode.INVALID_ARG_VALUE, `The "options.path" argument ${problem}`);
  }
  return path;
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
  // An IPv4 tail ends the text: after `::` when there is one ("0.0.0.0::" is not an address).
  const end = halves.length === 2 ? tail : head;
  const last = end[end.length - 1];
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
