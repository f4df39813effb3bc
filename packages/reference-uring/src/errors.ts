import { constants } from 'node:os';
import { IoleaseSystemError } from '@iolease/interfaces';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The errno name of a (negative or positive) errno, as node:net reports it (ERR-3). */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** A system error from a -errno result; `where` adds the address and port, as Node's do (ERR-3). */
export function systemError(
  errno: number,
  syscall: string,
  where?: { readonly address: string; readonly port?: number | undefined },
): IoleaseSystemError {
  // A Unix socket path has no port (LIFE-20).
  const detail =
    where === undefined ? undefined : where.port === undefined ? where.address : `${where.address}:${where.port}`;
  return new IoleaseSystemError(errnoName(errno), errno, syscall, detail, where);
}
