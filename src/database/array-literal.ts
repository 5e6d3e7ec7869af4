/**
 * A PostgreSQL array literal (`{a,b,NULL}`) of plain values, for a query parameter cast to an
 * array type (`$1::text[]`, `$2::bigint[]`).
 *
 * pg builds the same literal itself from a JS array, but quotes and escapes every element (two
 * regular-expression replaces and three new strings each). The monitor sends ~5,000 elements a
 * live block (hashes, addresses, amounts, event types and rooms) and that was ~12 % of everything
 * a block allocated (docs/monitor.md, "fewer allocations on the commit path"). Here an array whose
 * elements need no quoting (hex, decimal and identifier-like text: the usual case) is joined once;
 * any other element is quoted and escaped as the array input syntax requires, so the literal
 * stands for exactly the given values whatever they hold.
 */
export type ArrayElement = string | number | bigint | boolean | null | undefined;

/** Elements that the array input syntax reads back as themselves without quotes (not `NULL`). */
const BARE = /^[0-9A-Za-z_.+-]+$/;

function needsQuotes(value: string): boolean {
  return !BARE.test(value) || (value.length === 4 && value.toUpperCase() === 'NULL');
}

const quote = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&')}"`;

export function pgArray(values: readonly ArrayElement[]): string {
  let plain = true;
  for (const value of values) {
    if (value === null || value === undefined || (typeof value === 'string' && needsQuotes(value))) {
      plain = false;
      break;
    }
  }
  if (plain) return `{${values.join(',')}}`;
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    const value = values[i];
    if (value === null || value === undefined) literal += 'NULL';
    else if (typeof value === 'string') literal += needsQuotes(value) ? quote(value) : value;
    else literal += String(value);
  }
  return `${literal}}`;
}

function isElement(value: unknown): value is ArrayElement {
  const type = typeof value;
  return (
    value === null ||
    type === 'string' ||
    type === 'number' ||
    type === 'bigint' ||
    type === 'boolean' ||
    type === 'undefined'
  );
}

/** A query parameter: an array of plain values as pgArray's literal, anything else as it is. */
export const arrayParameter = (param: unknown): unknown =>
  Array.isArray(param) && param.every(isElement) ? pgArray(param) : param;
