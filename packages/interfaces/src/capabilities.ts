import { ErrorCode, IoleaseError } from './errors.js';

/**
 * The optional features of CONF-2 a loop provides (LOOP-9), as `loop.capabilities` reports them
 * at run time.
 *
 * @since 0.2.0
 */
export interface LoopCapabilities {
  /** Zero-copy sends with two-phase completion (WRITE-8). */
  readonly zeroCopySend: boolean;
  /** `SO_REUSEPORT` listeners: `listen({ reusePort: true })` (LIFE-1). */
  readonly reusePort: boolean;
  /** IPv6 listeners and connections: an IPv6 `host` (LIFE-1). */
  readonly ipv6: boolean;
  /**
   * Unix domain sockets: `listen({ path })` and `connect({ path })` (LIFE-20).
   *
   * @since 0.2.0
   */
  readonly unixSockets: boolean;
}

/**
 * The error for a request a loop cannot serve (LOOP-9): `listen` or `connect` reject with it
 * before acquiring any resource.
 *
 * @param capabilities - what the loop provides
 * @param request - what the call asks for: `reusePort` (listen only) and the family (4, 6, or
 *   `'unix'` for a path)
 * @returns `ERR_IOLEASE_FEATURE_UNSUPPORTED` naming the feature, or `undefined` when served
 * @since 0.2.0
 */
export function unsupportedRequest(
  capabilities: LoopCapabilities,
  request: { readonly reusePort?: boolean; readonly family: 4 | 6 | 'unix' },
): IoleaseError | undefined {
  if (request.family === 'unix' && !capabilities.unixSockets) {
    return new IoleaseError(ErrorCode.FEATURE_UNSUPPORTED, 'This loop cannot use Unix domain sockets (LOOP-9)');
  }
  if (request.reusePort === true && !capabilities.reusePort) {
    return new IoleaseError(ErrorCode.FEATURE_UNSUPPORTED, 'This loop cannot listen with reusePort (LOOP-9)');
  }
  if (request.family === 6 && !capabilities.ipv6) {
    return new IoleaseError(ErrorCode.FEATURE_UNSUPPORTED, 'This loop cannot use IPv6 addresses (LOOP-9)');
  }
  return undefined;
}
