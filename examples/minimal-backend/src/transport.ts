import type { Socket } from 'node:net';
import { isMarkedAsUntransferable } from 'node:worker_threads';
import { ChannelCore, type ChannelSettings, type ChannelTransport, type PendingWrite } from '@iolease/backend-core';
import { ErrorCode, IoleaseError, IoleaseSystemError, type SocketAddress } from '@iolease/interfaces';
import type { MinimalEventLoop } from './loop.ts';
import type { Waiter } from './pool.ts';

/**
 * One connection over a plain `net.Socket`: what its `ChannelCore` asks for, done with the
 * socket's own events. node:net reads into memory of its own; the bytes are copied into pool
 * buffers as the application wants them, and while the pool has none the socket is paused, so
 * at most one of node:net's chunks per connection waits outside the pool.
 */
export class MinimalTransport implements ChannelTransport, Waiter {
  readonly channel: ChannelCore;
  readonly #loop: MinimalEventLoop;
  readonly #socket: Socket;
  /** Bytes node:net delivered that are not in a lease yet, oldest first. */
  readonly #staged: Uint8Array[] = [];
  #eof = false;
  #local: SocketAddress | undefined;
  #remote: SocketAddress | undefined;

  constructor(loop: MinimalEventLoop, socket: Socket, settings: ChannelSettings, connecting: boolean) {
    this.#loop = loop;
    this.#socket = socket;
    const shared = { id: loop.core.nextChannelId(), pool: loop.pool, loop: loop.core };
    this.channel = new ChannelCore({ ...settings, ...shared, connecting, transport: () => this });
    socket.pause();
    if (!connecting) this.address(false);
    socket.on('data', (chunk: Buffer) => {
      this.#staged.push(chunk);
      this.#fill();
    });
    socket.on('end', () => {
      this.#eof = true;
      this.#fill();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const failure = systemError(error, this.channel.connecting ? 'connect' : 'read');
      if (this.channel.connecting) this.channel.connectFailed(failure);
      else this.channel.fail(failure);
    });
    socket.on('close', () => {
      this.#loop.pool.forget(this);
      this.channel.finalize();
      this.#loop.channelFinalized(this);
    });
  }

  receive(): void {
    this.#fill();
  }

  stopReceiving(): void {
    this.#socket.pause();
    this.#loop.pool.forget(this);
  }

  /** A buffer came back to the class this connection waited for. */
  resume(): void {
    this.channel.update(true);
  }

  send(write: PendingWrite): void {
    // node:net may send after JavaScript ran, when the caller could have detached its memory:
    // what is not the pool's (pinned, untransferable) or Node's own Buffer pool is copied (WRITE-12).
    const chunks = write.data instanceof Uint8Array ? [write.data] : write.data;
    const kept = chunks.map((c) => (isMarkedAsUntransferable(c.buffer) ? c : Buffer.from(c)));
    const data = kept.length === 1 ? (kept[0] as Uint8Array) : Buffer.concat(kept);
    this.#loop.core.countSubmission();
    this.#socket.write(data, (error) => {
      if (error) this.channel.fail(systemError(error, 'write'));
      else this.channel.sent(write.length);
    });
  }

  shutdown(): IoleaseError | undefined {
    this.#socket.end(); // FIN after the writes node:net still holds (LIFE-4)
    return undefined;
  }

  close(abortive: boolean): void {
    this.#loop.pool.forget(this);
    if (abortive && !this.channel.connecting) this.#socket.resetAndDestroy();
    else this.#socket.destroy();
  }

  setNoDelay(noDelay: boolean): void {
    this.#socket.setNoDelay(noDelay);
  }
  setKeepAlive(enable: boolean, delaySeconds: number): void {
    this.#socket.setKeepAlive(enable, delaySeconds * 1000);
  }
  setReferenced(referenced: boolean): void {
    if (referenced) this.#socket.ref();
    else this.#socket.unref();
  }

  /** node:net forgets addresses once the socket is destroyed: read them while it is up (LIFE-13). */
  address(peer: boolean): SocketAddress {
    const { localAddress = '', localPort = 0, remoteAddress = '', remotePort = 0 } = this.#socket;
    if (localPort > 0) this.#local ??= { family: 'IPv4', address: localAddress, port: localPort };
    if (remotePort > 0) this.#remote ??= { family: 'IPv4', address: remoteAddress, port: remotePort };
    return (peer ? this.#remote : this.#local) ?? { family: 'IPv4', address: '', port: 0 };
  }

  /** The connect completed: read the addresses now, and let the core start. */
  connected(): void {
    this.address(false);
    this.channel.connected();
  }

  /**
   * Moves staged bytes into leases, one buffer of the sizer's class at a time, while the
   * application wants data (READ-1..5); the end of stream follows the last byte (READ-6).
   */
  #fill(): void {
    while (this.#staged.length > 0 && this.channel.wantsReceive) {
      const classIndex = this.channel.preferredClass();
      if (classIndex instanceof IoleaseError) {
        this.channel.fail(classIndex, false);
        return;
      }
      const head = this.#staged[0] as Uint8Array;
      const bytes = head.subarray(0, this.#loop.pool.classSize(classIndex));
      const filled = this.#loop.pool.fill(classIndex, bytes, this);
      if (filled === undefined) break; // pool pressure: resumed when a buffer comes back (PRESS-3)
      if (bytes.length === head.length) this.#staged.shift();
      else this.#staged[0] = head.subarray(bytes.length);
      this.channel.received(classIndex, filled.bufferId, filled.view);
    }
    if (this.#staged.length > 0 || !this.channel.wantsReceive) this.#socket.pause();
    else if (this.#eof) this.channel.ended();
    else this.#socket.resume();
  }
}

/** node:net's error as a coded system error, with the address it was for (ERR-1, ERR-3). */
export function systemError(error: NodeJS.ErrnoException & { address?: string; port?: number }, syscall: string) {
  if (typeof error.errno !== 'number' || error.code === undefined) {
    return new IoleaseError(ErrorCode.CHANNEL_CLOSED, `The connection failed: ${error.message}`, { cause: error });
  }
  const where = error.address === undefined ? undefined : { address: error.address, port: error.port };
  const detail = where && `${where.address}:${where.port}`;
  return new IoleaseSystemError(error.code, error.errno, error.syscall ?? syscall, detail, where);
}
