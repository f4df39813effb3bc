import type { WriteData } from '@iolease/interfaces';

/**
 * What a backend keeps of a write (WRITE-12): the views and their lengths as they are at `write()`.
 * The caller's array is copied, and a view that could change length later (one that tracks the
 * length of a resizable or growable buffer) is replaced by a fixed view of the same bytes. Views
 * of fixed-length memory are kept as they are: taking them costs nothing.
 *
 * @param data - data that `validateWrite` accepted
 * @returns the chunks to send, a single array when `data` was one
 * @since 0.2.0
 */
export function snapshotWrite(data: WriteData): Uint8Array | Uint8Array[] {
  if (data instanceof Uint8Array) return fixedView(data);
  return data.map(fixedView);
}

/**
 * Whether chunks that {@link snapshotWrite} returned still hold `length` bytes. A view whose
 * ArrayBuffer was detached (transferred, say) or shrunk below it since reads as 0 bytes long: a
 * backend checks this before it hands the memory to the kernel, and fails the channel if not
 * (WRITE-12).
 *
 * @param chunks - what {@link snapshotWrite} returned
 * @param length - the write's length at `write()`
 * @since 0.2.0
 */
export function writeIntact(chunks: Uint8Array | readonly Uint8Array[], length: number): boolean {
  if (chunks instanceof Uint8Array) return chunks.byteLength === length;
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  return total === length;
}

function fixedView(chunk: Uint8Array): Uint8Array {
  const buffer = chunk.buffer;
  const variable = (buffer as ArrayBuffer).resizable === true || (buffer as SharedArrayBuffer).growable === true;
  return variable ? new Uint8Array(buffer, chunk.byteOffset, chunk.byteLength) : chunk;
}
