/**
 * What `connect()` needs of an `AbortSignal` (the web standard one, as Node has it).
 *
 * @since 0.2.0
 */
export interface AbortSignalLike {
  /** Whether it was aborted already. */
  readonly aborted: boolean;
  /** Why, once aborted. */
  readonly reason?: unknown;
  /** Registers `listener` for the `abort` event. */
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  /** Unregisters `listener`. */
  removeEventListener(type: 'abort', listener: () => void): void;
}
