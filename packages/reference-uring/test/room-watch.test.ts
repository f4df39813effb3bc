import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import type { Channel } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { createEventLoop } from '../src/index.ts';
import { openFds } from './helpers.ts';

/** epoll instances this process has open (libuv's own is one). */
function epollFds(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]';
    } catch {
      return false;
    }
  }).length;
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A node:net peer that half-closes at once and does not read: once our channel has more to send
 * than the socket takes, its poll for room reports only POLLRDHUP, and it waits in the loop's
 * RoomWatch (src/native/room_watch.h) instead.
 */
async function halfClosedPeer(loop: ReturnType<typeof createEventLoop>) {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const events: string[] = [];
  const channel: Channel = await loop.connect(
    { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
    {
      onEnd: () => events.push('end'),
      onError: (_c, error) => events.push(`error ${error.code}`),
      onClose: () => events.push('close'),
    },
  );
  const peer = await accepted;
  server.close();
  peer.end();
  await until(() => events.includes('end'), 5000, 'the peer FIN');
  return { channel, peer, events };
}

describe('waiting for room after the peer half-closed (LOOP-3)', () => {
  it('waits in an epoll instance the loop creates when first needed and closes with the loop', async () => {
    const baseline = { fds: openFds(), epoll: epollFds() };
    const loop = createEventLoop();
    const { channel, peer, events } = await halfClosedPeer(loop);
    const completions: (string | undefined)[] = [];
    const payload = new Uint8Array(32 * 1024 * 1024);
    channel.write(payload, (error) => completions.push(error?.code));
    await until(() => epollFds() === baseline.epoll + 1, 5000, 'the channel to wait in the RoomWatch');
    // The peer reads now: the wait ends, and every byte arrives.
    let received = 0;
    peer.on('data', (d: Buffer) => {
      received += d.length;
    });
    peer.resume();
    await until(() => completions.length === 1, 20_000, 'the write to complete');
    expect(completions).toEqual([undefined]);
    await until(() => received === payload.length, 5000, 'every byte at the peer');
    channel.close();
    await until(() => events.includes('close'), 5000, 'onClose');
    peer.destroy();
    await loop.close();
    expect(epollFds()).toBe(baseline.epoll);
    expect(openFds()).toBe(baseline.fds);
  });

  it('a channel closed or reset while it waits there ends its wait: failed completions, then onClose', async () => {
    for (const how of ['close', 'reset', 'loop close'] as const) {
      const baseline = epollFds();
      const loop = createEventLoop();
      const { channel, peer, events } = await halfClosedPeer(loop);
      peer.on('error', () => undefined);
      const completions: (string | undefined)[] = [];
      for (let i = 0; i < 8; i++) channel.write(new Uint8Array(4 * 1024 * 1024), (e) => completions.push(e?.code));
      await until(() => epollFds() === baseline + 1, 5000, 'the channel to wait in the RoomWatch');
      if (how === 'close') channel.close();
      else if (how === 'reset') channel.reset();
      else void loop.close();
      await until(() => events.includes('close'), 5000, `onClose after ${how}`);
      expect(completions.length, how).toBe(8);
      expect(completions.filter((c) => c !== undefined).length, how).toBeGreaterThan(0);
      peer.destroy();
      await loop.close();
      expect(epollFds(), how).toBe(baseline);
    }
  });
});
