/**
 * A channel's policy for how much receive memory it would like for its next read (spec §4).
 *
 * A sizer only states a preference: it never allocates (SIZER-2). The backend maps the
 * preference to the smallest fitting size class of the loop's pool (POOL-3) and tells the sizer
 * what actually happened through {@link RecvByteBufferSizer.record}.
 *
 * One sizer belongs to one channel (SIZER-1); the standard implementations keep per-channel
 * state, so give every channel its own instance.
 *
 * @see {@link FixedRecvByteBufferSizer}, {@link AdaptiveRecvByteBufferSizer}
 * @since 0.1.0
 */
export interface RecvByteBufferSizer {
  /**
   * The number of bytes the channel would like for its next read.
   *
   * @returns a positive safe integer (SIZER-3); a backend closes the channel with
   *   `ERR_IOLEASE_INVALID_SIZER` on anything else
   */
  nextReadSize(): number;

  /**
   * Reports one completed read (SIZER-1): called once per delivered lease, before the handler
   * sees it.
   *
   * @param bytesRead - bytes the read delivered, `0 <= bytesRead <= capacity`
   * @param capacity - bytes the buffer could have received: usually at least the mapped class's
   *   size, but less for the remaining part of an incremental buffer (POOL-4)
   */
  record(bytesRead: number, capacity: number): void;
}

/**
 * Makes a fresh sizer for a new channel. Listeners call it once per accepted channel.
 *
 * @since 0.1.0
 */
export type RecvByteBufferSizerFactory = () => RecvByteBufferSizer;
