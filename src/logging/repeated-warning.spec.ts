import { RepeatedWarning } from './repeated-warning.js';

describe(RepeatedWarning.name, () => {
  const setup = () => {
    let now = 0;
    const lines: string[] = [];
    const warning = new RepeatedWarning((m) => lines.push(m), {
      firstIntervalMs: 1_000,
      maxIntervalMs: 4_000,
      now: () => now,
    });
    return { warning, lines, at: (ms: number) => (now = ms) };
  };

  it('logs the first occurrence at once and holds back repeats within the interval', () => {
    const { warning, lines, at } = setup();
    expect(warning.warn('feed unreachable')).toBe(true);
    at(500);
    expect(warning.warn('feed unreachable')).toBe(false);
    at(900);
    warning.warn('feed unreachable');
    expect(lines).toEqual(['feed unreachable']);
  });

  it('then logs at a slowing rate (interval doubling up to the cap) with how many times it happened', () => {
    const { warning, lines, at } = setup();
    warning.warn('x'); // t=0
    for (let t = 100; t <= 20_000; t += 100) {
      at(t);
      warning.warn('x');
    }
    // Lines at 0, 1 s, 3 s (+2 s), 7 s (+4 s, the cap), 11 s, 15 s, 19 s.
    expect(lines).toHaveLength(7);
    expect(lines[1]).toBe('x (10 times in the last 1 s)');
    expect(lines[2]).toBe('x (20 times in the last 2 s)');
    expect(lines[3]).toBe('x (40 times in the last 4 s)');
    expect(lines[4]).toBe('x (40 times in the last 4 s)');
  });

  it('logs at once again after clear(), and says how many went unlogged', () => {
    const { warning, lines, at } = setup();
    warning.warn('x');
    at(10);
    warning.warn('x');
    warning.warn('x');
    expect(warning.clear()).toBe(2);
    at(20);
    expect(warning.warn('x')).toBe(true);
    expect(lines).toEqual(['x', 'x']);
  });
});
