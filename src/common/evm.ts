import sha3 from 'js-sha3';
import { formatUnits } from 'viem';

export type Hex = `0x${string}`;

export const TX_HASH_PATTERN = /^0x[0-9a-fA-F]{64}$/;

/**
 * A valid EVM address: 20 bytes of hex; when it mixes upper and lower case it must pass its
 * EIP-55 checksum (all-lower or all-upper hex carries no checksum and is accepted).
 */
export function isEvmAddress(value: unknown): value is string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) return false;
  const hex = value.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return true;
  return checksumAddress(value) === value;
}

/** The stored form of an address: lower-case hex. */
export const normalizeAddress = (address: string): Hex => address.toLowerCase() as Hex;

/**
 * EIP-55: a hex digit of the address is upper-cased when the same position of the keccak-256 of
 * the lower-case hex digits (as ASCII) is 8 or more. js-sha3's keccak takes ~4 µs here against
 * ~11–16 µs for the one viem's getAddress uses; a live block of 200 deposits to wallets not seen
 * before computes ~200 of these before its commit (docs/monitor.md).
 */
function eip55(lower: string): Hex {
  const digits = lower.slice(2);
  const hash = sha3.keccak_256(digits);
  let shown = '0x';
  for (let i = 0; i < 40; i++) {
    const digit = digits[i];
    // '8'..'9' and 'a'..'f' are char codes 56 and up.
    shown += digit > '9' && hash.charCodeAt(i) >= 56 ? digit.toUpperCase() : digit;
  }
  return shown as Hex;
}

/**
 * EIP-55 forms already computed, by lower-case address. Every deposit event shows two or three
 * addresses and the same wallets recur; one keccak per address instead of per event (the monitor
 * builds ~1,000 events per catch-up batch). Bounded: emptied when it reaches its limit.
 */
const checksummed = new Map<string, Hex>();
const CHECKSUM_CACHE_LIMIT = 100_000;

/** The shown form of an address: EIP-55 checksummed. */
export function checksumAddress(address: string): Hex {
  const key = address.toLowerCase();
  let shown = checksummed.get(key);
  if (shown === undefined) {
    shown = eip55(key);
    if (checksummed.size >= CHECKSUM_CACHE_LIMIT) checksummed.clear();
    checksummed.set(key, shown);
  }
  return shown;
}

/** Base units (a bigint or its decimal string) to a decimal string for people; never via a JS number. */
export const toDecimalString = (baseUnits: bigint | string, decimals: number): string =>
  formatUnits(BigInt(baseUnits), decimals);
