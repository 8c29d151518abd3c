// Seeded random numbers for the demo generators: the same seed gives the same stream on
// every machine, and each (purpose, item) gets its own stream.

/** mulberry32: tiny, fast, and good enough for synthetic data. */
export class Random {
  private state: number;
  private spare = Number.NaN;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in `[lo, hi]`. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box–Muller, keeping the second value). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** Independent stream per (purpose, item): a security's prices don't shift when the universe grows. */
export function streamSeed(seed: number, purpose: number, item: number): number {
  let h = (Math.imul(seed | 0, 0x27d4eb2d) ^ Math.imul(purpose + 1, 0x9e3779b1) ^ Math.imul(item + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The purposes of the streams (part of the seed: changing one changes the data). */
export const STREAM = { attributes: 1, market: 2, prices: 3, fundamentals: 4, corrections: 5, macro: 6, handPlaced: 7, transcripts: 8, syntheticTranscripts: 9 } as const;
