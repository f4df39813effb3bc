/** One place in a {@link WaiterLine}. */
interface Place<T> {
  readonly item: T;
  prev: Place<T> | undefined;
  next: Place<T> | undefined;
}

/**
 * The channels waiting for buffers of one size class, in the order they are to be woken
 * (PRESS-6). Every operation takes constant time: thousands of connections may wait at once, and
 * a line that shifted or searched an array would stall the loop for the square of their number
 * when they are woken or close together.
 *
 * An item is in the line at most once; adding it again leaves it where it is.
 */
export class WaiterLine<T> {
  readonly #places = new Map<T, Place<T>>();
  #first: Place<T> | undefined;
  #last: Place<T> | undefined;

  get length(): number {
    return this.#places.size;
  }

  /** Last in line: it started waiting. */
  push(item: T): void {
    if (this.#places.has(item)) return;
    const place: Place<T> = { item, prev: this.#last, next: undefined };
    if (this.#last === undefined) this.#first = place;
    else this.#last.next = place;
    this.#last = place;
    this.#places.set(item, place);
  }

  /** First in line: it was woken, and keeps its turn (PRESS-6). */
  unshift(item: T): void {
    if (this.#places.has(item)) return;
    const place: Place<T> = { item, prev: undefined, next: this.#first };
    if (this.#first === undefined) this.#last = place;
    else this.#first.prev = place;
    this.#first = place;
    this.#places.set(item, place);
  }

  /** Takes the first in line, if any. */
  shift(): T | undefined {
    const place = this.#first;
    if (place === undefined) return undefined;
    this.#unlink(place);
    return place.item;
  }

  /** Takes `item` out of the line wherever it is; nothing happens if it is not in line. */
  remove(item: T): void {
    const place = this.#places.get(item);
    if (place !== undefined) this.#unlink(place);
  }

  clear(): void {
    this.#places.clear();
    this.#first = undefined;
    this.#last = undefined;
  }

  #unlink(place: Place<T>): void {
    if (place.prev === undefined) this.#first = place.next;
    else place.prev.next = place.next;
    if (place.next === undefined) this.#last = place.prev;
    else place.next.prev = place.prev;
    this.#places.delete(place.item);
  }
}
