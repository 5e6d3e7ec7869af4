const WORDS = 5; // an address is 20 bytes = 5 × 32-bit words
const MAX_LOAD = 0.7;

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/**
 * A set of EVM addresses in flat typed arrays: an open-addressing hash table (linear probing) of
 * 20-byte keys. About 21 bytes per slot at ≤ 70 % load (≈ 30–60 MB for a million addresses), where
 * a `Set<string>` of 42-character strings costs several times that (bench/monitor.bench.ts measures
 * both). Lookups parse the hex in place: O(1), no allocation.
 */
export class AddressSet {
  private keys: Uint32Array;
  private used: Uint8Array;
  private mask: number;
  private count = 0;
  private readonly scratch = new Uint32Array(WORDS);

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.keys = new Uint32Array(capacity * WORDS);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table itself. */
  get byteLength(): number {
    return this.keys.byteLength + this.used.byteLength;
  }

  has(address: string): boolean {
    return this.parse(address) && this.find(this.scratch) >= 0;
  }

  /** Adds `address` (any case, 0x-prefixed); false when it is already there or is not an address. */
  add(address: string): boolean {
    if (!this.parse(address) || this.find(this.scratch) >= 0) return false;
    if (this.count + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    this.insert(this.scratch);
    return true;
  }

  delete(address: string): boolean {
    if (!this.parse(address)) return false;
    let slot = this.find(this.scratch);
    if (slot < 0) return false;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    this.used[slot] = 0;
    this.count--;
    let next = (slot + 1) & this.mask;
    while (this.used[next] === 1) {
      const home = this.hashAt(next) & this.mask;
      // Move `next` into the hole when its home slot is not cyclically within (slot, next].
      const distanceToNext = (next - home) & this.mask;
      const distanceToHole = (slot - home) & this.mask;
      if (distanceToHole < distanceToNext) {
        this.keys.copyWithin(slot * WORDS, next * WORDS, next * WORDS + WORDS);
        this.used[slot] = 1;
        this.used[next] = 0;
        slot = next;
      }
      next = (next + 1) & this.mask;
    }
    return true;
  }

  private parse(address: string): boolean {
    if (address.length !== 42) return false;
    for (let w = 0; w < WORDS; w++) {
      let word = 0;
      for (let i = 0; i < 8; i++) {
        const code = address.charCodeAt(2 + w * 8 + i);
        const digit = code < 128 ? HEX[code] : -1;
        if (digit < 0) return false;
        word = (word << 4) | digit;
      }
      this.scratch[w] = word >>> 0;
    }
    return true;
  }

  private static hash(k0: number, k1: number, k2: number, k3: number, k4: number): number {
    // Addresses are mostly uniform, but vanity addresses share prefixes: mix every word.
    let h = Math.imul(k0 ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ k1 ^ (h >>> 13), 0xc2b2ae35);
    h = Math.imul(h ^ k2 ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ k3 ^ (h >>> 13), 0xc2b2ae35);
    h = Math.imul(h ^ k4 ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 15)) >>> 0;
  }

  private hashAt(slot: number): number {
    const o = slot * WORDS;
    const k = this.keys;
    return AddressSet.hash(k[o], k[o + 1], k[o + 2], k[o + 3], k[o + 4]);
  }

  private find(key: Uint32Array): number {
    const k = this.keys;
    let slot = AddressSet.hash(key[0], key[1], key[2], key[3], key[4]) & this.mask;
    while (this.used[slot] === 1) {
      const o = slot * WORDS;
      if (
        k[o] === key[0] &&
        k[o + 1] === key[1] &&
        k[o + 2] === key[2] &&
        k[o + 3] === key[3] &&
        k[o + 4] === key[4]
      )
        return slot;
      slot = (slot + 1) & this.mask;
    }
    return -1;
  }

  private insert(key: Uint32Array): void {
    let slot = AddressSet.hash(key[0], key[1], key[2], key[3], key[4]) & this.mask;
    while (this.used[slot] === 1) slot = (slot + 1) & this.mask;
    this.keys.set(key, slot * WORDS);
    this.used[slot] = 1;
    this.count++;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldUsed = this.used;
    const capacity = oldUsed.length * 2;
    this.keys = new Uint32Array(capacity * WORDS);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < oldUsed.length; slot++) {
      if (oldUsed[slot] === 1) this.insert(oldKeys.subarray(slot * WORDS, slot * WORDS + WORDS));
    }
  }
}
