/**
 * The stable error codes of iolease (spec §12, ERR-1 … ERR-6).
 *
 * A code never changes meaning once published (ERR-5); messages are for humans and may change.
 * System errors from the operating system use the POSIX errno name as their code instead
 * (`ECONNREFUSED`, `ECONNRESET`, …), as `node:net` does (ERR-3); see {@link IoleaseSystemError}.
 *
 * @since 0.1.0
 */
export const ErrorCode = {
  /** An argument has the wrong type (ERR-2). */
  INVALID_ARG_TYPE: 'ERR_IOLEASE_INVALID_ARG_TYPE',
  /** An argument has the right type but a value the API does not accept (ERR-2). */
  INVALID_ARG_VALUE: 'ERR_IOLEASE_INVALID_ARG_VALUE',
  /** A numeric argument is outside its allowed range (ERR-2). */
  OUT_OF_RANGE: 'ERR_IOLEASE_OUT_OF_RANGE',
  /** A lease was released twice, or its bytes were read after release (LEASE-3, LEASE-4). */
  LEASE_RELEASED: 'ERR_IOLEASE_LEASE_RELEASED',
  /** The channel was closed before a write completed, or a write came after close (WRITE-9, WRITE-10). */
  CHANNEL_CLOSED: 'ERR_IOLEASE_CHANNEL_CLOSED',
  /** A write came after {@link Channel.shutdown} (LIFE-4). */
  WRITE_AFTER_END: 'ERR_IOLEASE_WRITE_AFTER_END',
  /** The event loop was closed; the operation cannot start (LIFE-10). */
  LOOP_CLOSED: 'ERR_IOLEASE_LOOP_CLOSED',
  /** A channel's sizer returned something that is not a positive safe integer (SIZER-3). */
  INVALID_SIZER: 'ERR_IOLEASE_INVALID_SIZER',
  /** The backend cannot run here: no io_uring, disabled by sysctl or seccomp, too old a kernel (ERR-4). */
  BACKEND_UNAVAILABLE: 'ERR_IOLEASE_BACKEND_UNAVAILABLE',
  /** The backend does not run on this operating system or architecture at all (ERR-4). */
  UNSUPPORTED_PLATFORM: 'ERR_IOLEASE_UNSUPPORTED_PLATFORM',
  /** An optional feature was requested that this backend or kernel does not provide (ERR-4). */
  FEATURE_UNSUPPORTED: 'ERR_IOLEASE_FEATURE_UNSUPPORTED',
  /** The operation is not valid in the object's current state (ERR-6). */
  INVALID_STATE: 'ERR_IOLEASE_INVALID_STATE',
  /** The operation was given up through its `AbortSignal` (LIFE-16). */
  ABORTED: 'ERR_IOLEASE_ABORTED',
} as const;

/**
 * One of the stable iolease codes in {@link ErrorCode}.
 *
 * @since 0.1.0
 */
export type IoleaseErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The base class of every error an iolease API reports (ERR-1).
 *
 * Test `error.code`, never the message or the class: codes are the stable contract.
 *
 * @since 0.1.0
 */
export class IoleaseError extends Error {
  /** The stable code: an {@link IoleaseErrorCode}, or an errno name for {@link IoleaseSystemError}. */
  readonly code: string;

  /**
   * @param code - the stable code
   * @param message - a human-readable explanation; not part of the contract
   * @param options - the underlying cause, if any
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** `'IoleaseError'`, as `Error#name`, so stack traces and `util.inspect` name the class. */
  override get name(): string {
    return 'IoleaseError';
  }
}

/**
 * An error reported by the operating system (ERR-3): `code` is the errno name, as in Node.
 *
 * @since 0.1.0
 */
export class IoleaseSystemError extends IoleaseError {
  /** The errno as a negative number, as libuv and Node report it (e.g. `-111` for ECONNREFUSED). */
  readonly errno: number;
  /** The system call or io_uring operation that failed (e.g. `connect`, `recv`). */
  readonly syscall: string;
  /** The remote address of a failed `connect`, or the local one of a failed `listen`, as in Node. */
  readonly address?: string;
  /** The port that goes with {@link IoleaseSystemError.address}; absent for a Unix socket path. */
  readonly port?: number;

  /**
   * @param errnoName - the POSIX name, e.g. `ECONNRESET`; becomes {@link IoleaseError.code}
   * @param errno - the errno value; stored negative whatever its sign here
   * @param syscall - the failed operation
   * @param detail - optional extra text for the message (an address, a path)
   * @param where - the address and port the operation was about, kept as properties (ERR-3); a
   *   Unix socket path without a port
   */
  constructor(
    errnoName: string,
    errno: number,
    syscall: string,
    detail?: string,
    where?: { readonly address: string; readonly port?: number | undefined },
  ) {
    super(errnoName, `${syscall} ${errnoName}${detail === undefined ? '' : ` ${detail}`}`);
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
    if (where !== undefined) {
      this.address = where.address;
      // A Unix socket path has no port (LIFE-20).
      if (where.port !== undefined) this.port = where.port;
    }
  }

  /** `'IoleaseSystemError'`, as `Error#name`. */
  override get name(): string {
    return 'IoleaseSystemError';
  }
}

/**
 * The error of a second `release()`, or of reading a released lease's bytes (LEASE-3, LEASE-4):
 * `leaseId` names the lease, so code need not parse the message.
 *
 * @since 0.2.0
 */
export class LeaseReleasedError extends IoleaseError {
  /** The `id` of the lease. */
  readonly leaseId: number;

  /**
   * @param leaseId - the lease's `id`
   * @param message - a human-readable explanation; not part of the contract
   */
  constructor(leaseId: number, message: string) {
    super(ErrorCode.LEASE_RELEASED, message);
    this.leaseId = leaseId;
  }
}

/**
 * Whether `value` is an iolease error, optionally with a given code.
 *
 * @param value - anything caught or received
 * @param code - when given, the code it must carry
 * @since 0.1.0
 */
export function isIoleaseError(value: unknown, code?: string): value is IoleaseError {
  return value instanceof IoleaseError && (code === undefined || value.code === code);
}
