export interface Random {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
}
