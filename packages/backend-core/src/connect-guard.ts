import { type AbortSignalLike, ErrorCode, IoleaseError, IoleaseSystemError } from '@iolease/interfaces';

// Host timers, declared here so the contract package types against no host's library.
declare function setTimeout(callback: () => void, ms: number): unknown;
declare function clearTimeout(handle: unknown): void;

/**
 * The error of a connect given up by its `signal` (LIFE-16): `ERR_IOLEASE_ABORTED`, with the
 * signal's reason as `cause`.
 *
 * @param signal - the aborted signal
 * @since 0.2.0
 */
export function abortedError(signal: AbortSignalLike): IoleaseError {
  return new IoleaseError(ErrorCode.ABORTED, 'The connect was aborted by its signal (LIFE-16)', {
    cause: signal.reason,
  });
}

/**
 * Watches one connect for its `timeout` and `signal` (LIFE-16): `giveUp` is called at most once,
 * with `ETIMEDOUT` or {@link abortedError}, unless `done()` came first. The backend then
 * abandons the connection without calling its handler and rejects the promise with that error.
 *
 * @param options - the validated `timeout` (ms) and `signal`, either may be absent
 * @param where - the address and port (a Unix socket path has none), for the `ETIMEDOUT` error
 * @param giveUp - abandons the connect
 * @returns `done`: call it when the connect settled any other way
 * @since 0.2.0
 */
export function guardConnect(
  options: { readonly timeout: number | undefined; readonly signal: AbortSignalLike | undefined },
  where: { readonly address: string; readonly port?: number | undefined },
  giveUp: (error: IoleaseError) => void,
): () => void {
  const { timeout, signal } = options;
  if (timeout === undefined && signal === undefined) return noop;
  let timer: unknown;
  const onAbort = () => settle(abortedError(signal as AbortSignalLike));
  const done = () => {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  const settle = (error: IoleaseError) => {
    done();
    giveUp(error);
  };
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      const detail = where.port === undefined ? where.address : `${where.address}:${where.port}`;
      settle(new IoleaseSystemError('ETIMEDOUT', 110, 'connect', detail, where));
    }, timeout);
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return done;
}

function noop(): void {}
