import type net from 'node:net';
import { ErrorCode, IoleaseError, type Listener, type SocketAddress } from '@iolease/interfaces';

/**
 * A listening socket of the node:net backend (LIFE-1, LIFE-11): a `net.Server` whose accepted
 * sockets are handed over, paused, to `adopt`.
 */
export class NetListener implements Listener {
  readonly address: SocketAddress;
  /** Accepts Node reported as failed (the server's 'error' once listening); it keeps listening. */
  acceptErrors = 0;
  readonly #server: net.Server;
  #closePromise: Promise<void> | undefined;
  readonly #onClosed: () => void;

  constructor(server: net.Server, onClosed: () => void) {
    this.#server = server;
    this.#onClosed = onClosed;
    const a = server.address() as net.AddressInfo | string;
    // node:net gives a Unix socket's address as its path alone (LIFE-20).
    this.address =
      typeof a === 'string'
        ? { family: 'Unix', address: a, port: 0 }
        : { family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, port: a.port };
  }

  get closed(): boolean {
    return this.#closePromise !== undefined;
  }

  close(): Promise<void> {
    this.#closePromise ??= new Promise((resolve) => {
      // Accepted sockets now belong to their channels, not to the server, so this resolves as
      // soon as the listening socket is closed (LIFE-11).
      this.#server.close(() => {
        this.#onClosed();
        resolve();
      });
    });
    return this.#closePromise;
  }

  unref(): this {
    if (!this.closed) this.#server.unref();
    return this;
  }

  ref(): this {
    if (!this.closed) this.#server.ref();
    return this;
  }
}

/**
 * Takes the connected handle out of a socket node:net accepted (paused, `pauseOnConnect`), so
 * that a new socket can own it with `onread`: node:net offers `onread` only to sockets it
 * constructs from options, never to accepted ones.
 */
export function takeAcceptedHandle(socket: net.Socket): unknown {
  const carrier = socket as unknown as { _handle: unknown };
  const handle = carrier._handle;
  if (
    handle === null ||
    typeof handle !== 'object' ||
    typeof (handle as { readStart?: unknown }).readStart !== 'function'
  ) {
    throw new IoleaseError(
      ErrorCode.FEATURE_UNSUPPORTED,
      'This Node.js version does not expose the accepted socket handle the node:net backend adopts',
    );
  }
  carrier._handle = null;
  socket.destroy();
  return handle;
}
