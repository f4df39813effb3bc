/**
 * Stops a subscription made with one of the `on…` methods. Calling it again does nothing.
 *
 * @since 0.1.0
 */
export type Unsubscribe = () => void;
