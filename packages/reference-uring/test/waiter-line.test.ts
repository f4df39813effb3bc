import { describe, expect, it } from 'vitest';
import { WaiterLine } from '../src/waiter-line.ts';

function drain<T>(line: WaiterLine<T>): T[] {
  const out: T[] = [];
  for (let item = line.shift(); item !== undefined; item = line.shift()) out.push(item);
  return out;
}

describe('the line of waiting channels', () => {
  it('PRESS-6 wakes in the order they started waiting, a woken one that lost its buffer first', () => {
    const line = new WaiterLine<string>();
    expect(line.shift()).toBeUndefined();
    line.push('a');
    line.push('b');
    line.unshift('z');
    line.push('c');
    expect(line.length).toBe(4);
    expect(drain(line)).toEqual(['z', 'a', 'b', 'c']);
    expect(line.length).toBe(0);
    line.unshift('only');
    line.push('after');
    expect(drain(line)).toEqual(['only', 'after']);
  });

  it('PRESS-3 a channel that closes or pauses leaves the line from anywhere in it', () => {
    for (const gone of ['a', 'b', 'c']) {
      const line = new WaiterLine<string>();
      for (const item of ['a', 'b', 'c']) line.push(item);
      line.remove(gone);
      line.remove('never in line');
      expect(line.length).toBe(2);
      // Both ends stay linked: adding at either end after a removal keeps the order.
      line.unshift('first');
      line.push('last');
      expect(drain(line), `without ${gone}`).toEqual(['first', ...['a', 'b', 'c'].filter((i) => i !== gone), 'last']);
    }
    const woken = new WaiterLine<string>();
    woken.push('a');
    woken.push('b');
    woken.unshift('z');
    woken.remove('a');
    expect(drain(woken), 'the one behind a woken waiter left').toEqual(['z', 'b']);
    const line = new WaiterLine<string>();
    line.push('alone');
    line.remove('alone');
    expect(line.length).toBe(0);
    line.push('next');
    expect(drain(line)).toEqual(['next']);
  });

  it('PRESS-6 a channel is in line once: adding it again keeps its place', () => {
    const line = new WaiterLine<string>();
    line.push('a');
    line.push('b');
    line.push('a');
    line.unshift('b');
    expect(drain(line)).toEqual(['a', 'b']);
  });

  it('clear() empties the line, and it takes new waiters after', () => {
    const line = new WaiterLine<string>();
    line.push('a');
    line.push('b');
    line.clear();
    expect(line.length).toBe(0);
    expect(line.shift()).toBeUndefined();
    line.push('c');
    line.unshift('d');
    expect(drain(line)).toEqual(['d', 'c']);
  });
});
