import { ErrorCode, IoleaseError, IoleaseSystemError } from '@iolease/interfaces';

/** Node's own error codes that stand for an iolease one (ERR-1): no errno behind them. */
const NODE_CODES: Readonly<Record<string, string>> = {
  ERR_STREAM_WRITE_AFTER_END: ErrorCode.WRITE_AFTER_END,
  ERR_STREAM_DESTROYED: ErrorCode.CHANNEL_CLOSED,
  ERR_SOCKET_CLOSED: ErrorCode.CHANNEL_CLOSED,
  ERR_SOCKET_CLOSED_BEFORE_CONNECTION: ErrorCode.CHANNEL_CLOSED,
};

/**
 * A node:net error as the iolease error it stands for: an errno (`code`, `errno`, `syscall`, and
 * `address`/`port` where Node gives them) as a system error (ERR-3), Node's own codes as theirs.
 */
export function fromNodeError(error: unknown, fallbackSyscall: string): IoleaseError {
  if (error instanceof IoleaseError) return error;
  const e = error as {
    code?: unknown;
    errno?: unknown;
    syscall?: unknown;
    message?: unknown;
    address?: unknown;
    port?: unknown;
  };
  if (typeof e?.code === 'string' && typeof e.errno === 'number') {
    // A Unix socket path comes without a port (or, from listen, with -1).
    const port = typeof e.port === 'number' && e.port >= 0 ? e.port : undefined;
    const where = typeof e.address === 'string' ? { address: e.address, port } : undefined;
    const detail = where && (port === undefined ? where.address : `${where.address}:${port}`);
    const syscall = typeof e.syscall === 'string' ? e.syscall : fallbackSyscall;
    return new IoleaseSystemError(e.code, e.errno, syscall, detail, where);
  }
  if (e?.code === 'ERR_SOCKET_CONNECTION_TIMEOUT') {
    return new IoleaseSystemError('ETIMEDOUT', 110, fallbackSyscall);
  }
  const code = (typeof e?.code === 'string' && NODE_CODES[e.code]) || ErrorCode.CHANNEL_CLOSED;
  return new IoleaseError(code, `The connection failed: ${String(e?.message ?? error)}`, { cause: error });
}
