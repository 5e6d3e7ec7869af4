import { randomBytes } from 'node:crypto';

import { getAddress } from 'viem';

import { checksumAddress, isEvmAddress, normalizeAddress, toDecimalString } from './evm.js';

describe('evm helpers', () => {
  const checksummed = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

  it('accepts a checksummed, an all-lower and an all-upper address', () => {
    expect(isEvmAddress(checksummed)).toBe(true);
    expect(isEvmAddress(checksummed.toLowerCase())).toBe(true);
    expect(isEvmAddress('0x' + checksummed.slice(2).toUpperCase())).toBe(true);
  });

  it('refuses a mixed-case address whose checksum is wrong, and malformed input', () => {
    expect(isEvmAddress('0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266')).toBe(false);
    expect(isEvmAddress('0x1234')).toBe(false);
    expect(isEvmAddress(42)).toBe(false);
  });

  it('stores lower-case and shows checksummed', () => {
    expect(normalizeAddress(checksummed)).toBe(checksummed.toLowerCase());
    expect(checksumAddress(checksummed.toLowerCase())).toBe(checksummed);
  });

  it('checksums as EIP-55 says: its own examples, and the same as viem for random addresses', () => {
    // The examples of EIP-55 itself.
    const examples = [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ];
    for (const shown of examples) {
      expect(checksumAddress(shown.toLowerCase())).toBe(shown);
      expect(checksumAddress(shown.toUpperCase().replace('0X', '0x'))).toBe(shown);
      expect(isEvmAddress(shown)).toBe(true);
    }
    for (let i = 0; i < 500; i++) {
      const address = `0x${randomBytes(20).toString('hex')}`;
      expect(checksumAddress(address)).toBe(getAddress(address));
    }
  });

  it('formats base units beyond 2^53 exactly', () => {
    expect(toDecimalString('123456789012345678901234567890', 18)).toBe('123456789012.34567890123456789');
    expect(toDecimalString(1n, 6)).toBe('0.000001');
    expect(toDecimalString('0', 18)).toBe('0');
  });
});
