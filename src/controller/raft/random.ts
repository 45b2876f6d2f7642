/**
 * The randomness the Raft core uses (election timeouts, backoffs), injected so that a simulation run is a
 * pure function of its seed. The real adapter seeds it from the OS; the simulation from the seed it prints.
 */

export interface Random {
  /** A uniformly distributed integer in [0, bound), as java.util.Random.nextInt(bound). */
  nextInt(bound: number): number;
}

/** mulberry32: a tiny, fast 32-bit PRNG; statistically fine for timeouts and fault injection. */
export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  nextInt(bound: number): number {
    if (!(bound > 0)) throw new RangeError(`bound must be positive: ${bound}`);
    return Math.floor(this.next() * bound);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}
