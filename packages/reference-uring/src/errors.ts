import { constants } from 'node:os';
import { ErrorCode, IoleaseError, IoleaseSystemError } from '@iolease/interfaces';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The errno name of a (negative or positive) errno, as node:net reports it (ERR-3). */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** A system error from a -errno result. */
export function systemError(errno: number, syscall: string, detail?: string): IoleaseSystemError {
  return new IoleaseSystemError(errnoName(errno), errno, syscall, detail);
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
