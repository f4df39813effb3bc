import type { SocketAddress } from './address.js';
import type { Channel, ChannelHandler, ChannelOptions } from './channel.js';

/**
 * Where and how to listen (LIFE-1).
 *
 * @since 0.1.0
 */
export interface ListenOptions extends ChannelOptions {
  /** A numeric IPv4 or IPv6 address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /**
   * Port to bind; 0 picks a free one, see {@link Listener.address}. Required unless `path` is
   * given (optional in the type since 0.2.0).
   */
  readonly port?: number;
  /**
   * Listen on a Unix domain socket at this path instead of TCP (LIFE-20), where the loop
   * provides `unixSockets` (LOOP-9). Not with `host`, `port`, `reusePort` or `ipv6Only`.
   *
   * @since 0.2.0
   */
  readonly path?: string;
  /** Length of the accept queue. Default 511, as in `node:net`. */
  readonly backlog?: number;
  /** Sets `SO_REUSEPORT` so several loops (threads) can share the port. Default `false`. */
  readonly reusePort?: boolean;
  /** For an IPv6 host, accept IPv6 only (`IPV6_V6ONLY`). Default `false`. */
  readonly ipv6Only?: boolean;
}

/**
 * Called once per accepted connection (LIFE-2). Return a handler to install it, or call
 * {@link Channel.setHandler} later; reads start only once a handler is set.
 *
 * @since 0.1.0
 */
export type AcceptCallback = (channel: Channel) => ChannelHandler | undefined;

/**
 * An accepting socket (LIFE-1, LIFE-11).
 *
 * @since 0.1.0
 */
export interface Listener {
  /** The bound address; the real port when 0 was asked for. */
  readonly address: SocketAddress;
  /** Whether {@link Listener.close} was called. */
  readonly closed: boolean;
  /**
   * Accepts that failed, as far as the backend sees them (LIFE-15): the listener stays open
   * through them and retries. A backend whose host hides some (libuv drops connections it cannot
   * accept for want of descriptors) counts what it is told.
   */
  readonly acceptErrors: number;
  /**
   * Stops accepting (LIFE-11). Channels already accepted stay open. Idempotent.
   *
   * @returns resolves once the socket is closed
   */
  close(): Promise<void>;

  /**
   * Lets the host process exit while this listener is open, as `net.Server.unref()` does
   * (LOOP-6); a wait to retry a failed accept (LIFE-15) then keeps nothing alive either. A
   * listener starts referenced. Idempotent; does nothing once closed.
   *
   * @returns this listener
   * @since 0.2.0
   */
  unref(): this;

  /**
   * Makes this listener keep the host process alive again while it is open (LOOP-6).
   * Idempotent; does nothing once closed.
   *
   * @returns this listener
   * @since 0.2.0
   */
  ref(): this;
}
