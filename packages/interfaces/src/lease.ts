/**
 * One filled receive buffer lent to the application (spec §5).
 *
 * The memory belongs to the event loop's pool. From delivery until {@link Lease.release} the
 * application owns it: the backend will neither write to it nor hand it back to the kernel
 * (LEASE-2). Release exactly once (LEASE-3), from any callback on the loop's thread, in any order
 * (LEASE-7). A lease stays valid after its channel closes (LEASE-5) and after its loop closes
 * (LEASE-6).
 *
 * @example
 * ```ts
 * onRead(channel, lease) {
 *   parser.push(lease.bytes); // parse in place: the bytes are pool memory, not a copy
 *   lease.release();          // give the buffer back as soon as the bytes are consumed
 * }
 * ```
 * @since 0.1.0
 */
export interface Lease {
  /** Unique among the leases of one loop; names the lease in errors and leak reports. */
  readonly id: number;

  /**
   * The bytes received: a view of pool memory, at least one byte long (LEASE-1, LEASE-8). Its
   * ArrayBuffer (`bytes.buffer`) is this buffer's own and holds nothing outside the lease
   * (LEASE-11). You may write into `bytes` while you hold the lease; never outside it, and never
   * detach its ArrayBuffer.
   *
   * @throws {@link IoleaseError} `ERR_IOLEASE_LEASE_RELEASED` when read after release (LEASE-4).
   *   Copy what must outlive the lease before releasing it.
   */
  readonly bytes: Uint8Array;

  /** Number of bytes received; the same as `bytes.length`, and still readable after release. */
  readonly length: number;

  /** Bytes the buffer could have held for this read (POOL-4); what the sizer was told. */
  readonly capacity: number;

  /** Buffer size of the pool size class the memory came from (POOL-2). */
  readonly sizeClass: number;

  /** Whether {@link Lease.release} has been called. */
  readonly released: boolean;

  /**
   * Returns the memory to the loop's pool.
   *
   * @throws {@link IoleaseError} `ERR_IOLEASE_LEASE_RELEASED`, naming this lease, when called a
   *   second time (LEASE-3); the first release stands
   */
  release(): void;
}
