import { retryDelayMs } from './webhook-delivery.worker.js';

describe(retryDelayMs.name, () => {
  const schedule = [5_000, 300_000, 1_800_000];

  it('follows the schedule with ±10 % jitter', () => {
    expect(retryDelayMs(schedule, 1, () => 0)).toBe(4_500);
    expect(retryDelayMs(schedule, 1, () => 1)).toBe(5_500);
    expect(retryDelayMs(schedule, 2, () => 0.5)).toBe(300_000);
    expect(retryDelayMs(schedule, 3, () => 0.5)).toBe(1_800_000);
  });

  it('gives up after the last retry of the schedule', () => {
    expect(retryDelayMs(schedule, 4)).toBeUndefined();
    expect(retryDelayMs([], 1)).toBeUndefined();
  });
});
