import { NotFoundException } from '@nestjs/common';

/**
 * The one way a lookup turns "absent" into a 404. Another user's row is reported the same way as
 * a missing one, so ids cannot be probed.
 */
export function findOrFail<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new NotFoundException(`${what} not found`);
  return value;
}
