/**
 * Nearest-neighbour retrieval over embedding prefixes, MRL's metrics as coded
 * (RAIVNLab/MRL retrieval/compute_metrics.ipynb) and adaptive retrieval (their §4.3.1 funnel).
 *
 * Embeddings are L2-normalised per prefix and searched exactly by L2 distance, which on unit
 * vectors ranks as cosine similarity; the similarity matrix is one matMul per query block.
 */
import { tf } from '../backend/tf.js';
import { NestlabArgumentError, checkInt } from '../errors.js';
import { checkMatrix, prefixColumns, type Matrix } from '../data/matrix.js';

/** Rows scaled to unit L2 norm (zero rows stay zero). */
export function normalizeRows(m: Matrix): Matrix {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.data[i * m.cols + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = m.data[i * m.cols + j] * inv;
  }
  return { data: out, rows: m.rows, cols: m.cols };
}

/**
 * Indices of the k nearest database rows for every query (cosine on normalised rows; ties
 * broken by lower index), as an Int32Array [queries * k]. Optional `candidates` restricts each
 * query's search to its own candidate list ([queries * c], for re-ranking a shortlist).
 */
export async function retrieveNearest(database: Matrix, queries: Matrix, k: number, candidates?: { indices: Int32Array; perQuery: number }): Promise<Int32Array> {
  const where = 'retrieveNearest';
  checkMatrix(where, 'database', database);
  checkMatrix(where, 'queries', queries);
  if (database.cols !== queries.cols) throw new NestlabArgumentError(where, 'queries.cols', `${database.cols} (database.cols)`, queries.cols);
  checkInt(where, 'k', k, 1, candidates ? candidates.perQuery : database.rows);
  const db = normalizeRows(database);
  const q = normalizeRows(queries);
  const out = new Int32Array(queries.rows * k);
  if (candidates) {
    // Re-ranking a shortlist: per query, score only its candidates (a small dot product each).
    const c = candidates.perQuery;
    const scores = new Float64Array(c);
    const order = new Int32Array(c);
    for (let i = 0; i < q.rows; i++) {
      for (let t = 0; t < c; t++) {
        const j = candidates.indices[i * c + t];
        let s = 0;
        for (let u = 0; u < q.cols; u++) s += q.data[i * q.cols + u] * db.data[j * db.cols + u];
        scores[t] = s;
        order[t] = t;
      }
      const sorted = Array.from(order).sort((a, b) => scores[b] - scores[a] || candidates.indices[i * c + a] - candidates.indices[i * c + b]);
      for (let t = 0; t < k; t++) out[i * k + t] = candidates.indices[i * c + sorted[t]];
    }
    return out;
  }
  const dbT = tf.tensor2d(db.data, [db.rows, db.cols]);
  const block = Math.max(1, Math.floor(4_000_000 / db.rows));
  try {
    for (let start = 0; start < q.rows; start += block) {
      const end = Math.min(start + block, q.rows);
      const { values, indices } = tf.tidy(() => {
        const sims = tf.matMul(tf.tensor2d(q.data.subarray(start * q.cols, end * q.cols), [end - start, q.cols]), dbT, false, true);
        return tf.topk(sims, k, true);
      });
      const idx = (await indices.data()) as Int32Array;
      const val = (await values.data()) as Float32Array;
      tf.dispose([values, indices]);
      // tf.topk's order among equal values is backend-dependent: fix it (lower index first).
      for (let i = 0; i < end - start; i++) {
        const row = Array.from({ length: k }, (_, t) => t).sort((a, b) => val[i * k + b] - val[i * k + a] || idx[i * k + a] - idx[i * k + b]);
        for (let t = 0; t < k; t++) out[(start + i) * k + t] = idx[i * k + row[t]];
      }
    }
  } finally {
    dbT.dispose();
  }
  return out;
}

/**
 * mAP@k as MRL codes it: per query, matches = (label of the t-th neighbour == query label),
 * precision@t = cumsum(matches)/t, AP = sum of precision@t over matching t, divided by k (not by
 * the number of hits); mAP = mean over queries. Also returns 1-NN accuracy (match at t = 1).
 */
export function retrievalMetrics(neighbours: Int32Array, k: number, databaseLabels: Int32Array, queryLabels: Int32Array): { mapAtK: number; oneNnAccuracy: number } {
  const where = 'retrievalMetrics';
  checkInt(where, 'k', k, 1);
  if (neighbours.length !== queryLabels.length * k) {
    throw new NestlabArgumentError(where, 'neighbours', `${queryLabels.length} * ${k} indices`, `${neighbours.length}`);
  }
  let apSum = 0;
  let top1 = 0;
  for (let i = 0; i < queryLabels.length; i++) {
    let hits = 0;
    let ap = 0;
    for (let t = 0; t < k; t++) {
      if (databaseLabels[neighbours[i * k + t]] === queryLabels[i]) {
        hits++;
        ap += hits / (t + 1);
        if (t === 0) top1++;
      }
    }
    apSum += ap / k;
  }
  return { mapAtK: apSum / queryLabels.length, oneNnAccuracy: top1 / queryLabels.length };
}

/** One step of a retrieval funnel: the prefix size used and how many candidates it keeps. */
export interface FunnelStep {
  dims: number;
  keep: number;
}

/**
 * Adaptive retrieval (MRL §4.3.1): shortlist `steps[0].keep` candidates with the first
 * `steps[0].dims` dimensions over the whole database, then re-rank each shortlist with the
 * next step's dims, keeping `keep`, and so on. Cost per query in multiply-adds:
 * dims_0 * N + sum_{s>0} dims_s * keep_{s-1}. Returns the final neighbours and that cost.
 */
export async function funnelRetrieval(database: Matrix, queries: Matrix, steps: FunnelStep[]): Promise<{ neighbours: Int32Array; k: number; costPerQuery: number }> {
  const where = 'funnelRetrieval';
  if (!Array.isArray(steps) || steps.length === 0) throw new NestlabArgumentError(where, 'steps', 'a non-empty array of {dims, keep}', steps);
  steps.forEach((s, i) => {
    checkInt(where, `steps[${i}].dims`, s.dims, 1, database.cols);
    checkInt(where, `steps[${i}].keep`, s.keep, 1, i === 0 ? database.rows : steps[i - 1].keep);
  });
  let current = await retrieveNearest(prefixColumns(database, steps[0].dims), prefixColumns(queries, steps[0].dims), steps[0].keep);
  let cost = steps[0].dims * database.rows;
  for (let s = 1; s < steps.length; s++) {
    current = await retrieveNearest(prefixColumns(database, steps[s].dims), prefixColumns(queries, steps[s].dims), steps[s].keep, {
      indices: current,
      perQuery: steps[s - 1].keep,
    });
    cost += steps[s].dims * steps[s - 1].keep;
  }
  return { neighbours: current, k: steps[steps.length - 1].keep, costPerQuery: cost };
}
