export interface Clock {
  /** Milliseconds since the Unix epoch. May be skewed against other replicas, never trusted for order. */
  now(): number;
}
