import { lstatSync, unlinkSync } from 'node:fs';
import { reportUncaught } from '@iolease/backend-core';
import {
  type AcceptCallback,
  DEFAULT_WATER_MARKS,
  FixedRecvByteBufferSizer,
  IoleaseError,
  type Listener,
  type SocketAddress,
} from '@iolease/interfaces';
import { CQE_F_MORE } from './completion.js';
import type { UringEventLoop } from './loop.js';
import type { ChannelInit } from './transport.js';

const ECANCELED = 125;
/** Accept errors that mean "out of resources now": no use retrying before some are freed. */
const RESOURCE_ERRORS = new Set([-24 /* EMFILE */, -23 /* ENFILE */, -105 /* ENOBUFS */, -12 /* ENOMEM */]);
const RESOURCE_RETRY_MS = 100;
/** Other accept errors are retried sooner, backing off while they persist, up to this. */
const MAX_RETRY_MS = 1000;
/** The settings of a channel accepted only to be reset (see #adopt). */
const DEFAULT_INIT = { sizer: new FixedRecvByteBufferSizer(2048), autoRead: false, maxLeases: 1, unix: false };

/** The file a Unix listener bound (LIFE-20): removed on close if it is still that socket. */
export interface SocketFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** A listening socket with one multishot accept armed while open (LIFE-1, LIFE-11). */
export class UringListener implements Listener {
  readonly address: SocketAddress;
  readonly #loop: UringEventLoop;
  readonly #slot: number;
  readonly #onAccept: AcceptCallback;
  readonly #channelInit: () => ChannelInit | IoleaseError;
  readonly #socketFile: SocketFile | undefined;
  #closed = false;
  #closeOps = 0;
  #acceptArmed = false;
  #closePromise: Promise<void> | undefined;
  #resolveClose: (() => void) | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #referenced = true;
  /** Accepts that failed in a row; reset by a successful one. */
  #failures = 0;
  /** Accepts that failed in all (LIFE-15: the listener stays open and retries). */
  acceptErrors = 0;

  constructor(
    loop: UringEventLoop,
    slot: number,
    address: SocketAddress,
    onAccept: AcceptCallback,
    channelInit: () => ChannelInit | IoleaseError,
    socketFile?: SocketFile,
  ) {
    this.#loop = loop;
    this.#socketFile = socketFile;
    this.#slot = slot;
    this.address = address;
    this.#onAccept = onAccept;
    this.#channelInit = channelInit;
    this.#arm();
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    // At once, as node:net does: a server closed is a path free for the next one.
    this.#removeSocketFile();
    this.#closePromise = new Promise((resolve) => {
      this.#resolveClose = resolve;
    });
    this.#loop.checkErrno(this.#loop.native.close(this.#slot, false), 'close');
    this.#closeOps = 2;
    this.#loop.requestPump();
    return this.#closePromise;
  }

  unref(): this {
    return this.#setReferenced(false);
  }

  ref(): this {
    return this.#setReferenced(true);
  }

  #setReferenced(referenced: boolean): this {
    if (this.#closed) return this;
    this.#referenced = referenced;
    this.#loop.setReferenced(this, referenced);
    // A retry of LIFE-15 in progress keeps the process alive exactly when the listener does.
    if (referenced) this.#retryTimer?.ref();
    else this.#retryTimer?.unref();
    return this;
  }

  onAccept(res: number, flags: number): void {
    if ((flags & CQE_F_MORE) === 0) this.#acceptArmed = false;
    if (res >= 0) {
      this.#failures = 0;
      this.#adopt(res);
    } else if (res !== -ECANCELED) {
      this.#failures++;
      this.acceptErrors++;
    }
    if (this.#closed) {
      this.#maybeFinalize();
      return;
    }
    if ((flags & CQE_F_MORE) !== 0) return;
    // The multishot accept ended and the listener is open, so something must arm the next one:
    // at once after a success or a cancel, after a pause when accepting failed, so that a
    // persistent error (EMFILE until a connection closes) does not spin the loop.
    if (this.#failures === 0) {
      this.#arm();
    } else {
      const backoff = Math.min(MAX_RETRY_MS, 10 * 2 ** (this.#failures - 1));
      const delay = RESOURCE_ERRORS.has(res) ? Math.max(RESOURCE_RETRY_MS, backoff) : backoff;
      this.#retryTimer = setTimeout(() => this.#arm(), delay);
      if (!this.#referenced) this.#retryTimer.unref();
    }
  }

  /**
   * Removes the socket file this listener bound, as node:net does, but only while it is still
   * that socket: a file put at the path since is not ours to delete (LIFE-20).
   */
  #removeSocketFile(): void {
    const file = this.#socketFile;
    if (file === undefined) return;
    try {
      const now = lstatSync(file.path);
      if (now.isSocket() && now.dev === file.dev && now.ino === file.ino) unlinkSync(file.path);
    } catch {
      // Gone already, or not ours to look at: nothing to remove.
    }
  }

  /** A new connection: hand it to the application, or close it if the listener is closing. */
  #adopt(slot: number): void {
    const init = this.#channelInit();
    if (init instanceof IoleaseError) {
      // The sizer factory threw: nobody can read this connection. A channel with a stand-in
      // sizer only exists to be reset, so that its socket and slot are released as usual.
      const channel = this.#loop.adoptChannel(slot, { ...DEFAULT_INIT, waterMarks: DEFAULT_WATER_MARKS });
      channel.reset();
      reportUncaught(init);
      return;
    }
    const channel = this.#loop.adoptChannel(slot, init);
    if (this.#closed) {
      channel.close();
      return;
    }
    try {
      const handler = this.#onAccept(channel);
      if (handler !== undefined && channel.state === 'open') channel.setHandler(handler);
    } catch (error) {
      // Nobody will ever read or close this channel: reset it rather than leak its socket.
      channel.reset();
      reportUncaught(error);
    }
  }

  onCloseStep(): void {
    this.#closeOps--;
    this.#maybeFinalize();
  }

  /** The slot is reusable only once no completion can still name it. */
  #maybeFinalize(): void {
    if (this.#closeOps > 0 || this.#acceptArmed || this.#resolveClose === undefined) return;
    const resolve = this.#resolveClose;
    this.#resolveClose = undefined;
    this.#loop.listenerFinalized(this.#slot, this);
    resolve();
  }

  #arm(): void {
    this.#retryTimer = undefined;
    if (this.#closed) return;
    this.#loop.checkErrno(this.#loop.native.armAccept(this.#slot), 'accept');
    this.#acceptArmed = true;
    this.#loop.requestPump();
  }
}
