import { formatAmount, formatPercent, formatPrice, shortHex } from './format';

describe('amount formatting', () => {
  it('groups the whole part and keeps every fractional digit exact', () => {
    expect(formatAmount('1234567.000000000000000001')).toBe('1,234,567.000000000000000001');
    expect(formatAmount('0.1')).toBe('0.1');
    expect(formatAmount('1000')).toBe('1,000');
  });

  it('never rounds through a float: 2^53 + 1 base units stay exact', () => {
    expect(formatAmount('9007199254740993')).toBe('9,007,199,254,740,993');
    expect(formatAmount('9007199254.740993000000000001')).toBe('9,007,199,254.740993000000000001');
  });

  it('formats exchange prices with at least two decimals and signed percents', () => {
    expect(formatPrice('43210.12000000')).toBe('43,210.12');
    expect(formatPrice('0.00001234')).toBe('0.00001234');
    expect(formatPrice('50000')).toBe('50,000.00');
    expect(formatPercent('1.25')).toBe('+1.25 %');
    expect(formatPercent('-0.4')).toBe('-0.4 %');
    expect(formatPercent('0')).toBe('0 %');
  });

  it('shortens hashes and leaves anything else as is', () => {
    expect(shortHex('0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060')).toBe(
      '0x5c504e…b22060',
    );
    expect(formatAmount('not a number')).toBe('not a number');
  });
});
