// The shape of the completion batch the native engine fills (src/native/user_data.h): five
// int32 words per completion. A test checks these kinds against the ones the binding exports.

/** Operation kinds, from the high half of an SQE's user_data. */
export const Kind = {
  ACCEPT: 1,
  RECV: 2,
  SEND: 3,
  CONNECT: 4,
  CLOSE_CANCEL: 5,
  CLOSE: 6,
  RECV_CANCEL: 7,
  /** The engine's own operations (fault injection); never in a batch. */
  INTERNAL: 8,
  /** A one-shot poll for room in a channel's socket, after a send it could not take whole. */
  WRITABLE: 9,
  /** The engine's wait for room in sockets whose peer half-closed (room_watch.h); never in a batch. */
  ROOM_POLL: 10,
  /**
   * The kernel finished an incremental buffer whose last piece no one sees (a stale completion)
   * while earlier pieces are still leased: group and buffer id as a receive carries them.
   */
  BUFFER_DONE: 11,
} as const;

export const RECORD_WORDS = 5;
/** The kind in the low 8 bits; for RECV, the buffer group (size class) in the next 8. */
export const FIELD_KIND = 0;
export const KIND_MASK = 0xff;
export const GROUP_SHIFT = 8;
export const FIELD_SLOT = 1;
/** The kernel's result: bytes, 0, -errno; for ACCEPT the new channel's slot. */
export const FIELD_RES = 2;
export const FIELD_FLAGS = 3;
/** For a receive into an incremental buffer: where in the buffer its bytes start. */
export const FIELD_OFFSET = 4;

/** cqe->flags bits (linux/io_uring.h). */
export const CQE_F_BUFFER = 1 << 0;
export const CQE_F_MORE = 1 << 1;
/** A zero-copy send's notification: the kernel no longer reads the send's memory. */
export const CQE_F_NOTIF = 1 << 3;
/** Incremental buffers: the kernel will put more into this buffer (IORING_CQE_F_BUF_MORE, 6.12). */
export const CQE_F_BUF_MORE = 1 << 4;
export const CQE_BUFFER_SHIFT = 16;
/** Set on the return-queue entry of an incremental buffer's last piece (kReturnLastPiece). */
export const RETURN_LAST_PIECE = 1 << 30;

/** Counter indexes of the shared Float64Array (src/native/engine.h). */
export const COUNTER_COMPLETIONS = 0;
export const COUNTER_BATCHES = 1;
export const COUNTER_SUBMISSIONS = 2;
export const COUNTER_SUBMIT_CALLS = 3;
export const COUNTER_STALE_COMPLETIONS = 4;
export const COUNTER_OVERFLOW_FLUSHES = 5;
export const COUNTER_ENTER_RETRIES = 6;
export const COUNTER_BACKLOGGED = 7;
