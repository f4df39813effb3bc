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

export function channelClosedError(): IoleaseError {
  return new IoleaseError(ErrorCode.CHANNEL_CLOSED, 'The channel was closed before the write completed');
}

export function writeAfterEndError(): IoleaseError {
  return new IoleaseError(ErrorCode.WRITE_AFTER_END, 'write after shutdown(): the channel no longer sends');
}

export function loopClosedError(): IoleaseError {
  return new IoleaseError(ErrorCode.LOOP_CLOSED, 'The event loop is closed');
}

/** Reports an application callback's exception as uncaught, after the loop's bookkeeping (LOOP-5). */
export function reportUncaught(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}
