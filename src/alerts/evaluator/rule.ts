import { fromScaled, toScaled } from '../decimal.js';

export const ALERT_CONDITIONS = ['above', 'below', 'crosses_up', 'crosses_down', 'pct_change'] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

export const ALERT_CHANNELS = ['email', 'socket', 'webhook'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

/** What the evaluator needs of a stored rule. */
export interface RuleSpec {
  id: string;
  userId: string;
  /** Upper-case. */
  symbol: string;
  condition: AlertCondition;
  /** Decimal string: a price, or a signed percent for pct_change (+5 = a rise of 5 %, -5 = a fall). */
  threshold: string;
  windowSeconds: number | null;
  cooldownSeconds: number;
  channels: readonly AlertChannel[];
  /** Persisted state: true = the next move into the condition fires. */
  armed: boolean;
  lastFiredAtMs: number | null;
}

/**
 * A level rule (above/below/pct_change) starts armed: if the condition already holds when it is
 * created, the next fresh price fires it. An edge rule (crosses_*) starts disarmed: it arms only
 * once a price on the other side of the threshold has been seen, so it fires on an observed crossing.
 */
export const initialArmed = (condition: AlertCondition): boolean =>
  condition !== 'crosses_up' && condition !== 'crosses_down';

export enum Place {
  Pending,
  Armed,
  Disarmed,
  Removed,
}

/**
 * One rule in memory. `rank` is the threshold oriented so that "fires" always means rank ≤ key.
 * Kept small (a million of them is the design point): no text copies, shared channel lists.
 */
export interface RuleEntry {
  readonly id: string;
  readonly userId: string;
  readonly symbol: string;
  readonly condition: AlertCondition;
  readonly threshold: bigint;
  readonly windowSeconds: number | null;
  readonly rank: bigint;
  cooldownMs: number;
  channels: readonly AlertChannel[];
  armed: boolean;
  lastFiredAtMs: number;
  place: Place;
}

/** 'up': fires when the key reaches the threshold from below (above, crosses_up, a rise). */
export type Direction = 'up' | 'down';

export function directionOf(condition: AlertCondition, threshold: bigint): Direction {
  switch (condition) {
    case 'above':
    case 'crosses_up':
      return 'up';
    case 'below':
    case 'crosses_down':
      return 'down';
    case 'pct_change':
      return threshold >= 0n ? 'up' : 'down';
  }
}

const CHANNEL_SETS = new Map<string, readonly AlertChannel[]>();

/** One frozen array per distinct channel list, shared by every rule that has it. */
function internChannels(channels: readonly AlertChannel[]): readonly AlertChannel[] {
  const key = [...channels].sort().join(',');
  let shared = CHANNEL_SETS.get(key);
  if (!shared) {
    shared = Object.freeze([...channels].sort());
    CHANNEL_SETS.set(key, shared);
  }
  return shared;
}

/** The threshold as an exact decimal string ("50000.5", "-2.5"). */
export const thresholdText = (rule: RuleEntry): string => fromScaled(rule.threshold);

/**
 * One string object per distinct value (symbols, conditions, user ids): rows from the database
 * carry a fresh copy each, and a million copies are memory and GC work for nothing. Grows with the
 * number of users who ever had a rule in this process (a UUID each), which is acceptable.
 */
const INTERNED = new Map<string, string>();
function intern<T extends string>(value: T): T {
  const shared = INTERNED.get(value);
  if (shared !== undefined) return shared as T;
  INTERNED.set(value, value);
  return value;
}

export function toEntry(spec: RuleSpec): RuleEntry {
  const threshold = toScaled(spec.threshold);
  const direction = directionOf(spec.condition, threshold);
  return {
    id: spec.id,
    userId: intern(spec.userId),
    symbol: intern(spec.symbol),
    condition: intern(spec.condition),
    threshold,
    windowSeconds: spec.windowSeconds,
    rank: direction === 'up' ? threshold : -threshold,
    cooldownMs: spec.cooldownSeconds * 1000,
    channels: internChannels(spec.channels),
    armed: spec.armed,
    lastFiredAtMs: spec.lastFiredAtMs ?? Number.NEGATIVE_INFINITY,
    place: Place.Pending,
  };
}

/** One rule that fired on a tick. */
export interface Firing {
  readonly rule: RuleEntry;
  /** Exact price text as the exchange sent it. */
  readonly price: string;
  readonly priceTimeMs: number;
  readonly firedAtMs: number;
}

/** What one tick did: the rules that fired, and every rule whose armed state changed (fired ones included). */
export interface TickResult {
  readonly fired: Firing[];
  readonly changed: RuleEntry[];
}
