// Seeded pseudo-random numbers for the simulator: the same seed gives the same tenant, ids and fault sequence.

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const GUID_BUFFER = Buffer.alloc(36);

/** mulberry32: tiny, fast, good enough for test data (not for anything secret). */
export class SeededRandom {
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

  uint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** A version-4 shaped GUID, lower case, as Entra object ids look. Written into one buffer: 100k ids must be cheap. */
  guid(): string {
    const out = GUID_BUFFER;
    let at = 0;
    for (let word = 0; word < 4; word++) {
      let n = this.uint32();
      for (let nibble = 0; nibble < 8; nibble++) {
        if (at === 8 || at === 13 || at === 18 || at === 23) out[at++] = 0x2d; // '-'
        let digit = n >>> 28;
        n = (n << 4) >>> 0;
        if (at === 14) digit = 4; // version 4
        else if (at === 19) digit = (digit & 0x3) | 0x8; // RFC 4122 variant
        out[at++] = HEX[digit]!;
      }
    }
    return out.toString('latin1', 0, 36);
  }
}
