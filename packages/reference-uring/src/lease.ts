import { ErrorCode, IoleaseError, type Lease } from '@iolease/interfaces';
import type { UringBufferPool } from './pool.js';

/**
 * A receive buffer lent to the application: a view of one buffer of a size class's memory.
 * Two states, leased and released; release() is the only transition (spec §5).
 */
export class UringLease implements Lease {
  readonly id: number;
  readonly length: number;
  readonly capacity: number;
  readonly sizeClass: number;
  readonly channelId: number;
  /** null once released: the pool is what the lease gives its buffer back to. */
  #pool: UringBufferPool | null;
  #view: Uint8Array | null;
  readonly #classIndex: number;
  readonly #bid: number;

  constructor(
    pool: UringBufferPool,
    id: number,
    channelId: number,
    classIndex: number,
    bid: number,
    view: Uint8Array,
    capacity: number,
  ) {
    this.#pool = pool;
    this.id = id;
    this.channelId = channelId;
    this.#classIndex = classIndex;
    this.#bid = bid;
    this.#view = view;
    this.length = view.length;
    this.capacity = capacity;
    this.sizeClass = pool.sizeClasses[classIndex]?.size ?? capacity;
  }

  get bytes(): Uint8Array {
    if (this.#view === null) throw releasedError(this.id, 'read');
    return this.#view;
  }

  get released(): boolean {
    return this.#pool === null;
  }

  release(): void {
    const pool = this.#pool;
    if (pool === null) throw releasedError(this.id, 'release');
    this.#pool = null;
    this.#view = null;
    pool.give(this.#classIndex, this.#bid, this.length);
  }
}

function releasedError(id: number, what: 'read' | 'release'): IoleaseError {
  return new IoleaseError(
    ErrorCode.LEASE_RELEASED,
    what === 'release'
      ? `Lease ${id} was already released; a lease is released exactly once (LEASE-3)`
      : `Lease ${id} was released; its bytes may not be read any more (LEASE-4)`,
  );
}
