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

  it('formats base units beyond 2^53 exactly', () => {
    expect(toDecimalString('123456789012345678901234567890', 18)).toBe('123456789012.34567890123456789');
    expect(toDecimalString(1n, 6)).toBe('0.000001');
    expect(toDecimalString('0', 18)).toBe('0');
  });
});
