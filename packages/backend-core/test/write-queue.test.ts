// The write queue alone: which bytes the next send carries. The kit sees these rules only
// through the kernel's partial sends; here each boundary is set up exactly.

import { describe, expect, it } from 'vitest';
import { channelClosedError } from '../src/index.ts';
import { DETACHED, MAX_SEND_CHUNK, type PendingWrite, WriteQueue } from '../src/write-queue.ts';

function write(data: Uint8Array | Uint8Array[], written = 0): PendingWrite {
  const length = data instanceof Uint8Array ? data.byteLength : data.reduce((n, c) => n + c.byteLength, 0);
  return { data, length, onComplete: undefined, written, error: undefined, counted: true, pins: undefined };
}

const bytes = (...values: number[]) => Uint8Array.from(values);
const flat = (send: ReturnType<WriteQueue['nextSend']>) =>
  send === undefined || send === DETACHED ? send : Array.from(send instanceof Uint8Array ? send : Buffer.concat(send));

describe('WriteQueue', () => {
  it('WRITE-5 WRITE-6 the next send starts where the kernel stopped, across chunks and writes', () => {
    const q = new WriteQueue();
    q.push(write([bytes(1, 2), bytes(3, 4, 5)], 3)); // 3 of 5 sent: resume inside the second chunk
    q.push(write(bytes(6, 7)));
    const send = q.nextSend(64);
    expect(Array.isArray(send) && send.length).toBe(2);
    expect(flat(send)).toEqual([4, 5, 6, 7]);
    // A chunk sent exactly to its end is skipped whole: no empty view in the send.
    const q2 = new WriteQueue();
    q2.push(write([bytes(1, 2), bytes(3)], 2));
    const one = q2.nextSend(64);
    expect(one).toBeInstanceOf(Uint8Array);
    expect(flat(one)).toEqual([3]);
  });

  it('WRITE-1 a send carries at most maxChunks views, and a single view as itself', () => {
    const q = new WriteQueue();
    const chunk = bytes(9);
    q.push(write(chunk));
    expect(q.nextSend(64)).toBe(chunk);
    for (let i = 0; i < 10; i++) q.push(write(bytes(i)));
    const send = q.nextSend(4);
    expect(Array.isArray(send) && send.length).toBe(4);
    expect(flat(send)).toEqual([9, 0, 1, 2]);
  });

  it('WRITE-4 WRITE-10 a send stops before a failed or empty write: those complete in order, unsent', () => {
    const q = new WriteQueue();
    q.push(write(bytes(1)));
    q.push({ ...write(bytes(2)), error: channelClosedError() });
    q.push(write(bytes(3)));
    expect(flat(q.nextSend(64))).toEqual([1]);
    const empty = new WriteQueue();
    empty.push(write(bytes(1)));
    empty.push(write(new Uint8Array(0)));
    empty.push(write(bytes(3)));
    expect(flat(empty.nextSend(64))).toEqual([1]);
    const failedFirst = new WriteQueue();
    failedFirst.push({ ...write(bytes(2)), error: channelClosedError() });
    expect(failedFirst.nextSend(64)).toBeUndefined();
  });

  it('WRITE-1 a view over 1 GiB goes out in parts: the send ends with its first GiB', () => {
    // Zero pages: a large view costs address space, not memory.
    const huge = new Uint8Array(MAX_SEND_CHUNK + 10);
    const q = new WriteQueue();
    q.push(write([huge, bytes(1)]));
    const first = q.nextSend(64);
    expect(first).toBeInstanceOf(Uint8Array);
    expect((first as Uint8Array).byteLength).toBe(MAX_SEND_CHUNK);
    const resumed = new WriteQueue();
    resumed.push(write([huge, bytes(1)], MAX_SEND_CHUNK));
    const rest = resumed.nextSend(64) as Uint8Array[];
    expect(rest.map((c) => c.byteLength)).toEqual([10, 1]);
  });

  it('WRITE-12 a write whose memory was detached since write() is reported, not sent', () => {
    const q = new WriteQueue();
    const memory = new ArrayBuffer(4);
    q.push(write(bytes(1)));
    q.push(write([new Uint8Array(memory)]));
    memory.transfer();
    expect(q.nextSend(64)).toBe(DETACHED);
  });

  it('keeps order and length through thousands of writes (the dead prefix is compacted)', () => {
    const q = new WriteQueue();
    for (let i = 0; i < 3000; i++) q.push(write(bytes(i & 0xff)));
    for (let i = 0; i < 2500; i++) expect(flat(q.shift()?.data as Uint8Array)).toEqual([i & 0xff]);
    expect(q.length).toBe(500);
    expect(flat(q.peek()?.data as Uint8Array)).toEqual([2500 & 0xff]);
    expect(flat(q.nextSend(2))).toEqual([2500 & 0xff, 2501 & 0xff]);
    for (let i = 2500; i < 3000; i++) q.shift();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
    expect(q.nextSend(64)).toBeUndefined();
  });
});
