import { type IoleaseError, type Lease, LeaseReleasedError } from '@iolease/interfaces';

/**
 * What a {@link PooledLease} gives its buffer back to: a backend's pool.
 *
 * @since 0.1.0
 */
export interface LeaseOwner {
  /**
   * Takes back buffer `bufferId` of size class `classIndex`, which held `length` bytes. Called
   * exactly once per lease, by {@link PooledLease.release} (LEASE-3).
   *
   * @param bytes - the lease's view, for a pool whose buffers hold several leases at once
   *   (incremental buffers, POOL-4), which poisons only that lease's bytes (DIAG-3)
   */
  give(classIndex: number, bufferId: number, length: number, bytes?: Uint8Array): void;
}

/**
 * What a {@link PooledLease} is made of: one filled pool buffer.
 *
 * @since 0.2.0
 */
export interface PooledLeaseInit {
  /** The pool the buffer returns to. */
  readonly owner: LeaseOwner;
  /** Unique among the loop's leases. */
  readonly id: number;
  /** The index of the buffer's size class in the pool. */
  readonly classIndex: number;
  /** The buffer within its class. */
  readonly bufferId: number;
  /** The received bytes, a view of pool memory (LEASE-1). */
  readonly view: Uint8Array;
  /** The class's buffer size. */
  readonly sizeClass: number;
  /**
   * Bytes the read could have received (POOL-4). Default: `sizeClass`; it differs when a read
   * asked for one class and landed in another.
   */
  readonly capacity?: number;
  /** The loop's leak tracker, told of the release (DIAG-2); none at level `off`. */
  readonly tracker?: LeaseUntracker | undefined;
}

/**
 * What a {@link PooledLease} tells of its release: the loop's `LeakTracker`, or anything like it.
 *
 * @since 0.2.0
 */
export interface LeaseUntracker {
  /** The lease was released: stop watching it for a leak (DIAG-2). */
  untrack(lease: Lease): void;
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
  readonly #tracker: LeaseUntracker | undefined;

  /** @since 0.2.0 (one init object; 0.1 took its fields as eight positional arguments) */
  constructor(init: PooledLeaseInit) {
    this.#owner = init.owner;
    this.id = init.id;
    this.#classIndex = init.classIndex;
    this.#bufferId = init.bufferId;
    this.#view = init.view;
    this.length = init.view.length;
    this.sizeClass = init.sizeClass;
    this.capacity = init.capacity ?? init.sizeClass;
    this.#tracker = init.tracker;
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
    const view = this.#view as Uint8Array;
    this.#owner = null;
    this.#view = null;
    this.#tracker?.untrack(this);
    owner.give(this.#classIndex, this.#bufferId, this.length, view);
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

  give(classIndex: number, bufferId: number, length: number, bytes?: Uint8Array): void {
    this.held--;
    this.#pool.give(classIndex, bufferId, length, bytes);
    if (this.held === this.#max - 1) this.#belowMax();
  }
}
