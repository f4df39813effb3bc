import { ErrorCode, IoleaseError, IoleaseSystemError } from '@iolease/interfaces';

/** A node:net error (`code`, `errno`, `syscall`) as the iolease system error it stands for (ERR-3). */
export function fromNodeError(error: unknown, fallbackSyscall: string): IoleaseError {
  if (error instanceof IoleaseError) return error;
  const e = error as { code?: unknown; errno?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && typeof e.errno === 'number') {
    return new IoleaseSystemError(e.code, e.errno, typeof e.syscall === 'string' ? e.syscall : fallbackSyscall);
  }
  return new IoleaseError(ErrorCode.CHANNEL_CLOSED, `The connection failed: ${String(e?.message ?? error)}`, {
    cause: error,
  });
}
