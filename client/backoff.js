// Reconnect delays: exponential growth with "equal jitter" (pure, no timers).

import { DEFAULTS } from "./constants.js";

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry).
 *
 * The ceiling grows as base * factor^attempt up to `maxMs`; the delay is half the ceiling plus a random
 * share of the other half. The random half spreads many clients out after a server restart (no thundering
 * herd), the fixed half keeps a client from retrying in a tight loop.
 *
 * @param {number} attempt retries already made since the last successful connection (>= 0)
 * @param {{baseMs?: number, factor?: number, maxMs?: number}} [options]
 * @param {() => number} [random] a source of numbers in [0, 1) (injected by tests)
 * @returns {number} milliseconds, an integer in [ceiling/2, ceiling]
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
  const { baseMs, factor, maxMs } = { ...DEFAULTS.backoff, ...options };
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // factor ** n reaches Infinity for large n; Math.min still gives maxMs.
  const ceiling = Math.min(maxMs, baseMs * factor ** n);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}
