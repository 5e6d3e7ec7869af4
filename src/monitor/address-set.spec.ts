import { randomBytes } from 'node:crypto';

import { AddressSet } from './address-set.js';

const randomAddress = () => `0x${randomBytes(20).toString('hex')}`;

describe(AddressSet.name, () => {
  it('finds what was added in any case, and nothing else', () => {
    const set = new AddressSet();
    const address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    expect(set.add(address)).toBe(true);
    expect(set.add(address.toLowerCase())).toBe(false);
    expect(set.has(address.toLowerCase())).toBe(true);
    expect(set.has(address.toUpperCase().replace('0X', '0x'))).toBe(true);
    expect(set.has('0x70997970c51812dc3a010c7d01b50e0d17dc79c9')).toBe(false);
    expect(set.has('0x1234')).toBe(false);
    expect(set.has('0xzz997970c51812dc3a010c7d01b50e0d17dc79c8')).toBe(false);
    expect(set.size).toBe(1);
  });

  it('agrees with a Set<string> through growth and deletions', () => {
    const set = new AddressSet(4);
    const reference = new Set<string>();
    const all = Array.from({ length: 20_000 }, randomAddress);
    // Vanity-like addresses sharing long prefixes must not collapse into one probe chain.
    for (let i = 0; i < 2_000; i++) all.push(`0x${'0'.repeat(32)}${i.toString(16).padStart(8, '0')}`);
    for (const a of all) {
      set.add(a);
      reference.add(a);
    }
    for (const a of all.filter((_, i) => i % 3 === 0)) {
      expect(set.delete(a)).toBe(true);
      reference.delete(a);
    }
    expect(set.size).toBe(reference.size);
    for (const a of all) expect(set.has(a)).toBe(reference.has(a));
    for (let i = 0; i < 1_000; i++) expect(set.has(randomAddress())).toBe(false);
    expect(set.delete(randomAddress())).toBe(false);
  });
});
