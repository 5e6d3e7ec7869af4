import pg from 'pg';

import { arrayParameter, pgArray } from '../../src/database/array-literal.js';

/**
 * pgArray's literals, read back by a real PostgreSQL: every value arrives as itself, whatever
 * characters it holds (the array input syntax gives quotes, backslashes, commas, braces, spaces,
 * an empty string and the word NULL meanings of their own).
 */
describe('pgArray (array parameters as one literal)', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
  });

  const readBack = async (literal: string, type: string): Promise<unknown[]> => {
    const { rows } = await client.query<{ value: unknown[] }>(`SELECT $1::${type} AS value`, [literal]);
    return rows[0].value;
  };

  it('joins plain values unquoted: hashes, addresses, decimals, signed and dotted ones', async () => {
    const values = [
      `0x${'ab'.repeat(32)}`,
      '0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      '123456789012345678901234567890',
      '-1',
      '0.1.2',
      'deposit.detected',
    ];
    expect(pgArray(values)).toBe(`{${values.join(',')}}`);
    expect(await readBack(pgArray(values), 'text[]')).toEqual(values);
  });

  it('quotes and escapes what the array syntax would read otherwise, and keeps nulls', async () => {
    const values = [
      '',
      'NULL',
      'null',
      'a b',
      'a,b',
      '{x}',
      'say "hi"',
      'back\\slash',
      'Ünï',
      'trailing\\',
      null,
      '"',
    ];
    expect(await readBack(pgArray(values), 'text[]')).toEqual(values);
    expect(await readBack(pgArray([null, undefined]), 'text[]')).toEqual([null, null]);
  });

  it('takes numbers, bigints and booleans as PostgreSQL reads them', async () => {
    expect(await readBack(pgArray([1, -2, 2147483647]), 'int[]')).toEqual([1, -2, 2147483647]);
    expect(await readBack(pgArray([2n ** 70n, 0n]), 'numeric[]::text[]')).toEqual([
      '1180591620717411303424',
      '0',
    ]);
    expect(await readBack(pgArray([true, false, null]), 'boolean[]')).toEqual([true, false, null]);
    expect(await readBack(pgArray([]), 'text[]')).toEqual([]);
  });

  it('leaves a parameter that is not an array of plain values to pg', async () => {
    expect(arrayParameter('x')).toBe('x');
    expect(arrayParameter(7)).toBe(7);
    const nested = [['a'], ['b']];
    expect(arrayParameter(nested)).toBe(nested);
    const withObject = [{ a: 1 }];
    expect(arrayParameter(withObject)).toBe(withObject);
    expect(arrayParameter(['a', 'b c'])).toBe('{a,"b c"}');
  });
});
