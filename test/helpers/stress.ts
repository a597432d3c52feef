/**
 * How hard the fault, fuzz and long-run tests push: `NESTLAB_STRESS=<factor>` multiplies their
 * case counts, kill trials and step counts (default 1: the budget CI runs; e.g. 10 for a night).
 */
const raw = process.env.NESTLAB_STRESS;
const factor = raw === undefined || raw === '' ? 1 : Number(raw);
if (!Number.isFinite(factor) || factor <= 0) throw new Error(`NESTLAB_STRESS must be a positive number, got ${raw}`);

/** The stress factor (1 unless NESTLAB_STRESS says otherwise). */
export const STRESS = factor;

/** `n` cases, trials or steps scaled by NESTLAB_STRESS (at least 1). */
export function stressed(n: number): number {
  return Math.max(1, Math.round(n * factor));
}
