import { type AcceptCallback, type Listener, reportUncaught, type SocketAddress } from '@iolease/interfaces';
import type { ChannelInit } from './channel.js';
import { CQE_F_MORE } from './completion.js';
import type { UringEventLoop } from './loop.js';

const ECANCELED = 125;
/** Accept errors that mean "out of resources now": retry later instead of spinning. */
const RESOURCE_ERRORS = new Set([-24 /* EMFILE */, -23 /* ENFILE */, -105 /* ENOBUFS */, -12 /* ENOMEM */]);
const RESOURCE_RETRY_MS = 100;

/** A listening socket with one multishot accept armed while open (LIFE-1, LIFE-11). */
export class UringListener implements Listener {
  readonly address: SocketAddress;
  readonly #loop: UringEventLoop;
  readonly #slot: number;
  readonly #onAccept: AcceptCallback;
  readonly #channelInit: () => ChannelInit;
  #closed = false;
  #closeOps = 0;
  #acceptArmed = false;
  #closePromise: Promise<void> | undefined;
  #resolveClose: (() => void) | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(
    loop: UringEventLoop,
    slot: number,
    address: SocketAddress,
    onAccept: AcceptCallback,
    channelInit: () => ChannelInit,
  ) {
    this.#loop = loop;
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
    this.#closePromise = new Promise((resolve) => {
      this.#resolveClose = resolve;
    });
    this.#loop.checkErrno(this.#loop.native.close(this.#slot, false), 'close');
    this.#closeOps = 2;
    this.#loop.requestPump();
    return this.#closePromise;
  }

  onAccept(res: number, flags: number): void {
    if ((flags & CQE_F_MORE) === 0) this.#acceptArmed = false;
    if (res >= 0) {
      const channel = this.#loop.adoptChannel(res, this.#channelInit());
      if (this.#closed) {
        channel.close();
      } else {
        try {
          const handler = this.#onAccept(channel);
          if (handler !== undefined && channel.state === 'open') channel.setHandler(handler);
        } catch (error) {
          reportUncaught(error);
        }
      }
    }
    if (this.#closed) {
      this.#maybeFinalize();
      return;
    }
    if ((flags & CQE_F_MORE) !== 0 || res === -ECANCELED) return;
    // The multishot accept ended: re-arm, after a pause when the process is out of resources.
    if (RESOURCE_ERRORS.has(res)) {
      this.#retryTimer = setTimeout(() => this.#arm(), RESOURCE_RETRY_MS);
    } else {
      this.#arm();
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
    this.#loop.listenerFinalized(this.#slot);
    resolve();
  }

  #arm(): void {
    if (this.#closed) return;
    this.#loop.checkErrno(this.#loop.native.armAccept(this.#slot), 'accept');
    this.#acceptArmed = true;
    this.#loop.requestPump();
  }
}
