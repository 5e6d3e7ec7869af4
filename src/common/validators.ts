import { registerDecorator, type ValidationOptions } from 'class-validator';

import { isEvmAddress, TX_HASH_PATTERN } from './evm.js';

/** An EVM address; a mixed-case one must pass its EIP-55 checksum. */
export function IsEvmAddress(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isEvmAddress',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a 0x-prefixed 20-byte hex address (mixed case must match its EIP-55 checksum)`,
        ...options,
      },
      validator: { validate: (value: unknown) => isEvmAddress(value) },
    });
}

/** A 32-byte transaction hash, 0x-prefixed hex. */
export function IsTxHash(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isTxHash',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be a 0x-prefixed 32-byte hex hash`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && TX_HASH_PATTERN.test(value) },
    });
}

/** A non-negative whole number written as a decimal string (a block number, an amount). */
export function IsUintString(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isUintString',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a non-negative whole number as a string`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && /^(0|[1-9]\d{0,77})$/.test(value),
      },
    });
}

const MAX_BIGINT = 2n ** 63n - 1n;

/** A block number as a decimal string that fits the database's bigint (0 … 2^63 − 1). */
export function IsBlockNumberString(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isBlockNumberString',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a block number as a decimal string (0 to ${MAX_BIGINT})`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && /^(0|[1-9]\d{0,18})$/.test(value) && BigInt(value) <= MAX_BIGINT,
      },
    });
}
