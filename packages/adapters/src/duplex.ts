import { Duplex } from 'node:stream';
import type { Channel, ChannelHandler, IoleaseError, Lease } from '@iolease/interfaces';
import { validateFunction, validateInteger, validateObject } from '@iolease/interfaces';

/**
 * How long `destroy()` waits for the writes made before it to complete. A `net.Socket` closes its
 * fd and the kernel still sends what it took; the writes a channel holds are that data, so they
 * are sent, then FIN. A peer that stops reading gets the rest dropped after this long.
 */
const DESTROY_LINGER_MS = 1000;

/** Options of {@link ChannelDuplex}. */
export interface ChannelDuplexOptions {
  /**
   * Keep the writable side open after the peer ends its output, as `net.Socket`'s option of the
   * same name. Default `false`: the stream ends its output once it has read the peer's end.
   */
  readonly allowHalfOpen?: boolean;
}

/**
 * Any iolease {@link Channel} as a Node.js `stream.Duplex` shaped like a `net.Socket`, so that
 * `http.Server`, `tls.TLSSocket` and libraries expecting a socket run over it.
 *
 * - **Reads.** Each lease is copied into a `Buffer` and released at once: a stream consumer may
 *   keep a chunk for as long as it likes (node:http hands slices of it to request bodies), which
 *   pool memory cannot allow. This copy is what the stream contract costs.
 * - **Backpressure.** When `push()` says the readable buffer is full, the channel's auto-read
 *   is turned off, so its data waits in the kernel; `_read()` turns it back on (READ-1, READ-2).
 * - **Writes.** Each chunk (or `writev` batch) is one channel write. The stream's write
 *   callback runs while the channel is writable, and otherwise once it is writable again, so
 *   the channel's water marks are the stream's backpressure; `'finish'` waits for every
 *   completion.
 * - **Destroy.** `destroy()` and `destroy(error)` close the channel as `net.Socket`'s do: what
 *   was written before still goes out, then FIN (node:http answers a bad or slow request with a
 *   400 or 408 written just before it destroys the socket). `resetAndDestroy()` resets it.
 *   `'close'` follows the channel's `onClose`.
 */
export class ChannelDuplex extends Duplex {
  readonly channel: Channel;
  /** Bytes received so far, as `net.Socket#bytesRead`. */
  bytesRead = 0;
  #bytesWritten = 0;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Channel writes not yet completed. */
  #inflight = 0;
  /** The stream callback of the last write, held while the channel is above its high water mark. */
  #writeCallback: ((error?: Error | null) => void) | undefined;
  #finalCallback: ((error?: Error | null) => void) | undefined;
  #onChannelClosed: (() => void) | undefined;
  /** Set while `destroy()` waits for the writes before it (DESTROY_LINGER_MS). */
  #linger: NodeJS.Timeout | undefined;

  constructor(channel: Channel, options: ChannelDuplexOptions = {}) {
    validateObject('options', options);
    super({ allowHalfOpen: options.allowHalfOpen ?? false, decodeStrings: true, emitClose: true });
    this.channel = channel;
    channel.setHandler(this.#handler);
  }

  readonly #handler: ChannelHandler = {
    onRead: (_channel: Channel, lease: Lease) => {
      if (this.destroyed) {
        lease.release(); // received while destroy() sends what was written before it
        return;
      }
      const chunk = Buffer.allocUnsafe(lease.length);
      chunk.set(lease.bytes);
      lease.release();
      this.bytesRead += chunk.length;
      this.#activity();
      if (!this.push(chunk)) this.channel.setAutoRead(false);
    },
    onEnd: () => {
      // A completion batch can carry a request and the FIN behind it; net.Socket never reports
      // both in one turn of the event loop (libuv stops reading after a short read), and
      // node:http relies on that: a pipelined request answered in this turn must not see 'end'
      // before its response is written. So the end is pushed one turn later.
      setImmediate(() => {
        if (!this.destroyed) this.push(null);
      });
    },
    onWritabilityChanged: (_channel: Channel, writable: boolean) => {
      if (!writable || this.#writeCallback === undefined) return;
      const callback = this.#writeCallback;
      this.#writeCallback = undefined;
      callback();
    },
    onError: (_channel: Channel, error: IoleaseError) => {
      this.destroy(error);
    },
    onClose: () => {
      this.#closed = true;
      this.#clearTimer();
      clearTimeout(this.#linger);
      const done = this.#onChannelClosed;
      this.#onChannelClosed = undefined;
      if (done !== undefined) done();
      // Closed because both directions ended (LIFE-5): data the consumer has not read yet stays
      // readable, as with a net.Socket, and the stream is destroyed once it is read.
      else if (this.channel.inputEnded && !this.readableEnded) this.once('end', () => this.destroy());
      else this.destroy();
    },
  };

  /** The stream wants data again: turn the channel's auto-read back on. */
  override _read(): void {
    if (this.channel.state === 'open') this.channel.setAutoRead(true);
  }

  /** One chunk, as one channel write. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  /** Several buffered chunks, as one vectored channel write. */
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#send(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  /** `end()`: shut the channel's output down once every write has completed. */
  override _final(callback: (error?: Error | null) => void): void {
    // FIN follows every pending write (LIFE-4); 'finish' waits until they have all completed.
    this.channel.shutdown();
    if (this.#inflight === 0) callback();
    else this.#finalCallback = callback;
  }

  /**
   * One channel write. Its stream callback runs at once while the channel stays writable, as
   * net.Socket's does for a write the kernel took at once, and otherwise when the channel turns
   * writable again: the water marks are the stream's backpressure. The channel keeps the chunk
   * alive until its completion (WRITE-2).
   */
  #send(data: Buffer | Buffer[], callback: (error?: Error | null) => void): void {
    this.#inflight++;
    const writable = this.channel.write(data, (error, bytes) => {
      this.#inflight--;
      this.#bytesWritten += bytes;
      this.#activity();
      if (this.#inflight === 0 && this.#linger !== undefined) {
        clearTimeout(this.#linger);
        this.#linger = undefined;
        this.channel.close();
      }
      if (error !== undefined) {
        const waiting = this.#writeCallback;
        this.#writeCallback = undefined;
        if (waiting !== undefined) waiting(error);
        else this.destroy(error);
      }
      if (this.#inflight === 0 && this.#finalCallback !== undefined) {
        const done = this.#finalCallback;
        this.#finalCallback = undefined;
        done(error);
      }
    });
    if (writable) callback();
    else this.#writeCallback = callback;
  }

  /**
   * `destroy()`, with or without an error: close the channel once the writes made before it have
   * completed (at most DESTROY_LINGER_MS), as a `net.Socket` closes gracefully; done once it has
   * closed.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearTimer();
    if (this.#closed) {
      callback(error);
      return;
    }
    this.#onChannelClosed = () => callback(error);
    if (this.#inflight === 0 || this.channel.state !== 'open') {
      this.channel.close();
      return;
    }
    this.channel.setAutoRead(false);
    this.channel.shutdown(); // FIN after the writes before it (LIFE-4)
    this.#linger = setTimeout(() => this.channel.close(), DESTROY_LINGER_MS);
    this.#linger.unref();
  }

  // ---- The net.Socket surface that http, tls and socket libraries use ---------------------

  get remoteAddress(): string {
    return this.channel.remoteAddress.address;
  }
  get remotePort(): number {
    return this.channel.remoteAddress.port;
  }
  get remoteFamily(): string {
    return this.channel.remoteAddress.family;
  }
  get localAddress(): string {
    return this.channel.localAddress.address;
  }
  get localPort(): number {
    return this.channel.localAddress.port;
  }
  get localFamily(): string {
    return this.channel.localAddress.family;
  }
  get bytesWritten(): number {
    return this.#bytesWritten;
  }
  get connecting(): boolean {
    return false;
  }
  get pending(): boolean {
    return false;
  }
  get readyState(): 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.channel.state === 'closed') return 'closed';
    if (this.channel.outputEnded) return this.channel.inputEnded ? 'closed' : 'readOnly';
    return this.channel.inputEnded ? 'writeOnly' : 'open';
  }

  /** The local address, as `net.Socket#address()`. */
  address(): { address: string; family: string; port: number } {
    const a = this.channel.localAddress;
    return { address: a.address, family: a.family, port: a.port };
  }

  /** Sets `TCP_NODELAY`, as `net.Socket#setNoDelay`. */
  setNoDelay(noDelay = true): this {
    if (this.channel.state === 'open') this.channel.setNoDelay(noDelay);
    return this;
  }

  /** Sets TCP keep-alive, as `net.Socket#setKeepAlive`. */
  setKeepAlive(enable = false, initialDelay = 0): this {
    if (this.channel.state === 'open') this.channel.setKeepAlive(enable, initialDelay);
    return this;
  }

  /**
   * Emits `'timeout'` after `ms` without reads or writes, as `net.Socket#setTimeout`; 0 turns it
   * off. The timer never keeps the process alive.
   */
  setTimeout(ms: number, callback?: () => void): this {
    validateInteger('ms', ms, 0, 2 ** 31 - 1);
    if (callback !== undefined) {
      validateFunction('callback', callback);
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#timeoutMs = ms;
    this.#clearTimer();
    if (ms > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit('timeout'), ms);
      this.#timer.unref();
    }
    return this;
  }

  /** Ends the output, then destroys the stream once everything written has been sent. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes the connection abortively: the peer sees a reset (LIFE-6). */
  resetAndDestroy(): this {
    this.#clearTimer();
    if (!this.#closed) this.channel.reset();
    return this.destroy();
  }

  /** Makes the channel keep the process alive again, as `net.Socket.ref()` (LOOP-6). */
  ref(): this {
    this.channel.ref();
    return this;
  }

  /** Lets the process exit while the channel is open, as `net.Socket.unref()` (LOOP-6). */
  unref(): this {
    this.channel.unref();
    return this;
  }

  #activity(): void {
    if (this.#timer !== undefined && this.#timeoutMs > 0) this.#timer.refresh();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
