/**
 * A socket address as a channel or listener reports it.
 *
 * @since 0.1.0
 */
export interface SocketAddress {
  /** The numeric address, `127.0.0.1` or `::1` style. */
  readonly address: string;
  /** The address family. */
  readonly family: 'IPv4' | 'IPv6';
  /** The port number. */
  readonly port: number;
}
