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
  for (const p of sub) {
    // Persistence is scale-dependent: put every prefix on one scale (unit RMS distance to the mean).
    const probe = topologyProbe(unitScale(p.x), { maxDim: 1, maxPoints: opts.topologyPoints, prefix: p.size, seed: opts.seed });
    for (const r of probe) {
      if (r.measure === 'totalPersistence' || r.measure === 'nLong' || r.measure === 'maxPersistence') {
        rows.push(geometryRow({ family: fam.family, panel: 'topology', size: p.size, dim: `H${r.dim}`, measure: r.measure, value: r.value }));
      }
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
