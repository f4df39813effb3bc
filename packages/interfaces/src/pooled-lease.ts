import { type IoleaseError, LeaseReleasedError } from './errors.js';
import type { Lease } from './lease.js';

/**
 * What a {@link PooledLease} gives its buffer back to: a backend's pool.
 *
 * @since 0.1.0
 */
export interface LeaseOwner {
  /**
   * Takes back buffer `bufferId` of size class `classIndex`, which held `length` bytes. Called
   * exactly once per lease, by {@link PooledLease.release} (LEASE-3).
   */
  give(classIndex: number, bufferId: number, length: number): void;
}

/**
 * A ready-made {@link Lease} for backends: a view of one pool buffer with the exactly-once
 * release of spec §5. A backend constructs one per filled buffer; the application sees only the
 * {@link Lease} interface. Not needed to *use* iolease, only to implement a backend.
 *
 * @since 0.1.0
 */
export class PooledLease implements Lease {
  readonly id: number;
  readonly length: number;
  readonly capacity: number;
  readonly sizeClass: number;
  /** null once released (LEASE-3): the owner is what the buffer goes back to. */
  #owner: LeaseOwner | null;
  #view: Uint8Array | null;
  readonly #classIndex: number;
  readonly #bufferId: number;
  readonly #tracker: { untrack(lease: Lease): void } | undefined;

  /**
   * @param owner - the pool the buffer returns to
   * @param id - unique among the loop's leases
   * @param classIndex - index of the buffer's size class in the pool
   * @param bufferId - the buffer within its class
   * @param view - the received bytes, a view of pool memory (LEASE-1)
   * @param capacity - bytes the read could have received (POOL-4)
   * @param sizeClass - the class's buffer size
   * @param tracker - the loop's leak tracker, told of the release (DIAG-2); none at level `off`
   */
  constructor(
    owner: LeaseOwner,
    id: number,
    classIndex: number,
    bufferId: number,
    view: Uint8Array,
    capacity: number,
    sizeClass: number,
    tracker?: { untrack(lease: Lease): void },
  ) {
    this.#owner = owner;
    this.id = id;
    this.#classIndex = classIndex;
    this.#bufferId = bufferId;
    this.#view = view;
    this.length = view.length;
    this.capacity = capacity;
    this.sizeClass = sizeClass;
    this.#tracker = tracker;
  }

  get bytes(): Uint8Array {
    if (this.#view === null) throw releasedError(this.id, 'read');
    return this.#view;
  }

  get released(): boolean {
    return this.#owner === null;
  }

  release(): void {
    const owner = this.#owner;
    if (owner === null) throw releasedError(this.id, 'release');
    this.#owner = null;
    this.#view = null;
    this.#tracker?.untrack(this);
    owner.give(this.#classIndex, this.#bufferId, this.length);
  }
}

function releasedError(id: number, what: 'read' | 'release'): IoleaseError {
  return new LeaseReleasedError(
    id,
    what === 'release'
      ? `Lease ${id} was already released; a lease is released exactly once (LEASE-3)`
      : `Lease ${id} was released; its bytes may not be read any more (LEASE-4)`,
  );
}

/**
 * The buffers one channel holds, for PRESS-9's `maxLeases`: the {@link LeaseOwner} a channel
 * gives its leases, which counts each buffer off on its way back to the pool and says when the
 * channel fell below its limit, so that it can receive again.
 *
 * @since 0.2.0
 */
export class ChannelLeases implements LeaseOwner {
  /** Buffers held now: leases not released, and data held for the channel (READ-2). */
  held = 0;
  readonly #pool: LeaseOwner;
  readonly #max: number;
  readonly #belowMax: () => void;

  /**
   * @param pool - where buffers go back
   * @param max - the channel's `maxLeases`, `Infinity` for none
   * @param belowMax - called when a release takes the channel from its limit to one below
   */
  constructor(pool: LeaseOwner, max: number, belowMax: () => void) {
    this.#pool = pool;
    this.#max = max;
    this.#belowMax = belowMax;
  }

  /** Whether the channel may receive another buffer (PRESS-9). */
  get belowMax(): boolean {
    return this.held < this.#max;
  }

  /** A buffer was filled for the channel; make its lease with this object as the owner. */
  taken(): void {
    this.held++;
  }

  give(classIndex: number, bufferId: number, length: number): void {
    this.held--;
    this.#pool.give(classIndex, bufferId, length);
    if (this.held === this.#max - 1) this.#belowMax();
  }
}
