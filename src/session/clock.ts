/** Time for the session engines, injected so that they stay pure and tests control it. */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
}
