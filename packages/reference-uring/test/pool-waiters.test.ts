// The io_uring pool's line of waiting channels, driven step by step (PRESS-3, PRESS-6, PRESS-8).
// The orders that matter here come from races a real kernel decides (another receive taking the
// buffer a wake stood for, thousands of wakes handed back at once), which no socket test can
// schedule on purpose; so the pool runs on plain memory, and the test plays the kernel's part:
// `take` is a receive filling a buffer, `exhausted` a receive that found the ring empty.
import { describe, expect, it } from 'vitest';
import { type PoolWaiter, UringBufferPool } from '../src/pool.ts';

const CLASS = 0;

function makePool(count: number): UringBufferPool {
  const returns = new Int32Array(count + 1);
  return new UringBufferPool([{ size: 64, count }], returns, {
    poison: false,
    defer: (task) => queueMicrotask(task),
    requestPump: () => {},
    bufferMemory: () => new ArrayBuffer(64),
    flushReturns: () => {
      returns[0] = 0;
    },
    incremental: false,
  });
}

/** A waiting channel that records its wakes and acts on each as `onWake` says. */
function waiter(name: string, log: string[], onWake: (index: number) => void = () => {}): PoolWaiter {
  return {
    resumeReceive(index) {
      log.push(name);
      onWake(index);
    },
  };
}

describe('the io_uring pool line', () => {
  it('PRESS-6 a woken waiter whose buffer another receive took keeps its place at the front', () => {
    const pool = makePool(1);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((n) => waiter(n, log));
    pool.take(CLASS, 0, 10, 0, 0);
    for (const w of [a, b, c]) pool.exhausted(CLASS, w as PoolWaiter, false);
    pool.give(CLASS, 0, 10);
    expect(log).toEqual(['a']);
    // Before a's receive reaches the kernel, another connection's receive fills the buffer.
    pool.take(CLASS, 0, 10, 0, 0);
    pool.exhausted(CLASS, a as PoolWaiter, true);
    expect(log, 'PRESS-8 no buffer is free: nobody is woken').toEqual(['a']);
    pool.give(CLASS, 0, 10);
    expect(log, 'PRESS-6 a is still first in line').toEqual(['a', 'a']);
    expect(pool.debugState()[CLASS]).toMatchObject({ waiters: 2, wakes: 1 });
  });

  it('PRESS-8 a receive that finds the ring empty while a wake stands for the only free buffer waits, and is not woken for it', () => {
    const pool = makePool(1);
    const log: string[] = [];
    pool.take(CLASS, 0, 10, 0, 0);
    pool.exhausted(CLASS, waiter('a', log), false);
    pool.give(CLASS, 0, 10);
    pool.take(CLASS, 0, 10, 0, 0); // the buffer a's wake stood for, taken by another receive
    pool.exhausted(CLASS, waiter('b', log), false);
    expect(log).toEqual(['a']);
    expect(pool.debugState()[CLASS]).toMatchObject({ ringFree: 0, waiters: 1, wakes: 1 });
  });

  it('PRESS-8 one returned buffer wakes one waiter of many', () => {
    const pool = makePool(1);
    const log: string[] = [];
    pool.take(CLASS, 0, 10, 0, 0);
    for (const n of ['a', 'b', 'c']) pool.exhausted(CLASS, waiter(n, log), false);
    pool.give(CLASS, 0, 10);
    expect(log).toEqual(['a']);
    expect(pool.debugState()[CLASS]).toMatchObject({ ringFree: 1, waiters: 2, wakes: 1 });
  });

  it('PRESS-8 100,000 waiters that each hand their wake back at once are woken in a loop, not a recursion', async () => {
    // A wake handed back inside resumeReceive (the channel no longer receives on this class)
    // passes to the next waiter; passed on by recursion, a long line would overflow the stack.
    const pool = makePool(1);
    const log: string[] = [];
    pool.take(CLASS, 0, 10, 0, 0);
    const n = 100_000;
    for (let i = 0; i < n; i++)
      pool.exhausted(
        CLASS,
        waiter('w', log, (index) => pool.wakeDone(index)),
        false,
      );
    // A waiter's exception is reported as uncaught (LOOP-5), a stack overflow among them.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      expect(() => pool.give(CLASS, 0, 10)).not.toThrow();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(log).toHaveLength(n);
    expect(pool.debugState()[CLASS]).toMatchObject({ ringFree: 1, waiters: 0, wakes: 0 });
  });

  it('PRESS-3 a channel that closes or pauses while waiting leaves the line, and the next is woken instead', () => {
    const pool = makePool(1);
    const log: string[] = [];
    pool.take(CLASS, 0, 10, 0, 0);
    const a = waiter('a', log);
    pool.exhausted(CLASS, a, false);
    pool.exhausted(CLASS, waiter('b', log), false);
    pool.forget(CLASS, a);
    expect(pool.debugState()[CLASS]).toMatchObject({ waiters: 1 });
    pool.give(CLASS, 0, 10);
    expect(log).toEqual(['b']);
  });

  it('PRESS-3 forgetting a channel that is not in line leaves the line as it was', () => {
    const pool = makePool(1);
    const log: string[] = [];
    pool.take(CLASS, 0, 10, 0, 0);
    pool.exhausted(CLASS, waiter('a', log), false);
    pool.exhausted(CLASS, waiter('b', log), false);
    pool.forget(CLASS, waiter('stranger', log));
    expect(pool.debugState()[CLASS]).toMatchObject({ waiters: 2 });
    pool.give(CLASS, 0, 10);
    expect(log).toEqual(['a']);
  });
});
