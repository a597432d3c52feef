/**
 * Tidy tables: one object per observation with flat values, the shape every experiment returns,
 * every figure is drawn from (vega-lite inline data) and every CSV in figures/ is written from.
 */

/** One value of a tidy row. */
export type Cell = string | number | boolean | null;

/** A tidy row: one observation, flat values only (written as one CSV line). */
export type Row = Record<string, Cell>;
