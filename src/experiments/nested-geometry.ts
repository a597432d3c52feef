/**
 * The geometry of one family of nested representations (the prefixes of an MRL embedding, or the
 * prefix codes of a Matryoshka SAE), measured on the same stimuli at every prefix size: prefix x
 * prefix matrices of linear CKA, RSA and tRSA, persistent-homology summaries per prefix, and
 * 2-D UMAP coordinates of a few prefixes. Used by the `geometry-nested` figure.
 */
import { columnMeans, selectRows, type Matrix } from '../data/matrix.js';
import { Rng } from '../backend/rng.js';
import { linearCka } from '../similarity/cka.js';
import { computeRdm } from '../rsa/rdm.js';
import { compareRdms } from '../rsa/compare.js';
import { geoTopological } from '../rsa/topological.js';
import { topologyProbe } from '../topology/probe.js';
import { umapEmbed } from '../plot/umap.js';


/** The tRSA setting: the "topology sensitive" region of Lin & Kriegeskorte's (l, u) plane. */
export const TRSA_LU = { l: 0.4, u: 0.6 } as const;

/** A row: panel 'cka' | 'rsa' | 'trsa' (a pair of sizes), 'topology' (one size, degree, measure) or 'umap' (one point). */
export type NestedGeometryRow = {
  family: string;
  sizeA: number | null;
  sizeB: number | null;
  panel: 'cka' | 'rsa' | 'trsa' | 'topology' | 'umap';
  value: number | null;
  size: number | null;
  dim: string | null;
  measure: string | null;
  x: number | null;
  y: number | null;
  label: number | null;
};

/** A row with every column, in the CSV's column order, from the fields it has. */
function geometryRow(fields: Partial<NestedGeometryRow> & Pick<NestedGeometryRow, 'family' | 'panel'>): NestedGeometryRow {
  const { family, sizeA = null, sizeB = null, panel, value = null, size = null, dim = null, measure = null, x = null, y = null, label = null } = fields;
  return { family, sizeA, sizeB, panel, value, size, dim, measure, x, y, label };
}

export interface NestedFamily {
  /** Name shown in the figure, e.g. 'MRL embedding'. */
  family: string;
  /** Representation of the same stimuli at each prefix size, increasing. */
  prefixes: { size: number; x: Matrix }[];
}

export interface NestedGeometryOptions {
  /** Labels of the stimuli (for coloring UMAP panels). */
  labels: Int32Array;
  /** Prefix sizes that get a UMAP panel. */
  umapSizes: number[];
  /** Stimuli used for RSA/tRSA/topology (a seeded subset of the rows); UMAP uses all rows. */
  rsaStimuli: number;
  /** Points kept for persistence (max–min landmarks). */
  topologyPoints: number;
  /**
   * Gaussian clouds per prefix with the prefix's covariance (default 0: none). When > 0, each
   * degree also gets measure 'totalPersistenceVsGaussian': total persistence over its mean in
   * these clouds, so growth that comes from the dimension alone (distances concentrating as the
   * ambient dimension grows) cancels and what remains is structure beyond a Gaussian.
   */
  nullDraws?: number;
  seed: number;
}

/**
 * Rows for one family: panel 'cka' | 'rsa' | 'trsa' ({family, panel, sizeA, sizeB, value}),
 * 'topology' ({family, panel, size, dim, measure, value}) and 'umap' ({family, panel, size, x, y,
 * label}). RSA = Spearman correlation of the Euclidean RDMs; tRSA = Pearson correlation of their
 * geo-topological transforms GT(l = 0.4, u = 0.6) on rank quantiles.
 */
export async function nestedGeometryRows(fam: NestedFamily, opts: NestedGeometryOptions): Promise<NestedGeometryRow[]> {
  const rows: NestedGeometryRow[] = [];
  const n = fam.prefixes[0].x.rows;
  const subset = new Rng(opts.seed).permutation(n).subarray(0, Math.min(opts.rsaStimuli, n));
  const sub = fam.prefixes.map((p) => ({ size: p.size, x: selectRows(p.x, subset) }));
  const rdms = await Promise.all(sub.map((p) => computeRdm(p.x, { method: 'euclidean' })));
  const gts = rdms.map((r) => geoTopological(r, { ...TRSA_LU, mode: 'quantile' }));
  for (let i = 0; i < sub.length; i++) {
    for (let j = 0; j < sub.length; j++) {
      const pair = { family: fam.family, sizeA: sub[i].size, sizeB: sub[j].size };
      const cka = i === j ? 1 : await linearCka(sub[i].x, sub[j].x);
      rows.push(geometryRow({ ...pair, panel: 'cka', value: cka }));
      rows.push(geometryRow({ ...pair, panel: 'rsa', value: i === j ? 1 : compareRdms(rdms[i], rdms[j], { method: 'spearman' }) }));
      rows.push(geometryRow({ ...pair, panel: 'trsa', value: i === j ? 1 : compareRdms(gts[i], gts[j], { method: 'corr' }) }));
    }
  }
  const nullRng = new Rng(opts.seed).fork();
  for (const p of sub) {
    // Persistence is scale-dependent: put every prefix on one scale (unit RMS distance to the mean).
    const probeOf = (x: Matrix) => topologyProbe(unitScale(x), { maxDim: 1, maxPoints: opts.topologyPoints, prefix: p.size, seed: opts.seed });
    const probe = probeOf(p.x);
    for (const r of probe) {
      if (r.measure === 'totalPersistence' || r.measure === 'nLong' || r.measure === 'maxPersistence') {
        rows.push(geometryRow({ family: fam.family, panel: 'topology', size: p.size, dim: `H${r.dim}`, measure: r.measure, value: r.value }));
      }
    }
    const draws = opts.nullDraws ?? 0;
    if (draws === 0) continue;
    const nullTotal = new Map<number, number>();
    for (let d = 0; d < draws; d++) {
      for (const r of probeOf(gaussianLike(p.x, nullRng))) {
        if (r.measure === 'totalPersistence') nullTotal.set(r.dim, (nullTotal.get(r.dim) ?? 0) + r.value / draws);
      }
    }
    for (const r of probe) {
      if (r.measure === 'totalPersistence') rows.push(geometryRow({ family: fam.family, panel: 'topology', size: p.size, dim: `H${r.dim}`, measure: 'totalPersistenceVsGaussian', value: r.value / nullTotal.get(r.dim)! }));
    }
  }
  for (const p of fam.prefixes.filter((q) => opts.umapSizes.includes(q.size))) {
    const emb = await umapEmbed(p.x, { seed: opts.seed, nNeighbors: 15, minDist: 0.1 });
    for (let i = 0; i < emb.rows; i++) {
      rows.push(geometryRow({ family: fam.family, panel: 'umap', size: p.size, x: emb.data[2 * i], y: emb.data[2 * i + 1], label: opts.labels[i] }));
    }
  }
  return rows;
}

/**
 * A Gaussian cloud with X's sample covariance: Y = Ξ·Xc/√n with Ξ an n x n matrix of N(0, 1), so
 * E[YᵀY/n] = XcᵀXc/n (every spectral property of X kept, every non-Gaussian structure lost).
 */
export function gaussianLike(x: Matrix, rng: Rng): Matrix {
  const mean = columnMeans(x);
  const n = x.rows;
  const d = x.cols;
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x.data[i * d + j] - mean[j];
  const out = new Float32Array(n * d);
  const row = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    row.fill(0);
    for (let i = 0; i < n; i++) {
      const w = rng.normal();
      for (let j = 0; j < d; j++) row[j] += w * xc[i * d + j];
    }
    for (let j = 0; j < d; j++) out[r * d + j] = row[j] / Math.sqrt(n);
  }
  return { data: out, rows: n, cols: d };
}

/** X centered and scaled so that the root-mean-square distance of a row to the mean is 1. */
export function unitScale(x: Matrix): Matrix {
  const mean = columnMeans(x);
  let ss = 0;
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) ss += (x.data[i * x.cols + j] - mean[j]) ** 2;
  const scale = ss > 0 ? Math.sqrt(x.rows / ss) : 1;
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) out[i * x.cols + j] = (x.data[i * x.cols + j] - mean[j]) * scale;
  return { data: out, rows: x.rows, cols: x.cols };
}
