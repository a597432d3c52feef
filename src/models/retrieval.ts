/**
 * Nearest-neighbor retrieval over embedding prefixes, MRL's metrics as coded
 * (RAIVNLab/MRL retrieval/compute_metrics.ipynb) and adaptive retrieval (their §4.3.1 funnel).
 *
 * Embeddings are searched exactly by cosine similarity (similarity/knn.ts), prefix by prefix.
 */
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { checkMatrix, normalizeRows, prefixColumns, type Matrix } from '../data/matrix.js';
import { knnSearch } from '../similarity/knn.js';

/** Options of `mrl.retrieveNearest`. */
export interface RetrieveOptions {
  /**
   * Restrict each query's search to its own candidate list: `indices` holds `perQuery` database
   * rows per query ([queries * perQuery]), e.g. the shortlist of a funnel's previous step.
   */
  candidates?: { indices: Int32Array; perQuery: number };
}

/**
 * Indices of the k nearest database rows for every query by cosine similarity
 * cos(q, d_j) = q·d_j / (‖q‖‖d_j‖) (ties broken by lower index), as an Int32Array [queries * k]:
 * the exact search of `similarity.nearestNeighbors` run from separate queries. With
 * `options.candidates`, each query's own shortlist is re-ranked. On unit vectors this ranks as
 * MRL's exact L2 search (docs/methods/mrl.md §5).
 *
 * @example const nn = await mrl.retrieveNearest(data.prefixColumns(zTrain, 16), data.prefixColumns(zTest, 16), 10); // nn[i * 10 + t]: query i's t-th neighbor
 */
export async function retrieveNearest(database: Matrix, queries: Matrix, k: number, options: RetrieveOptions = {}): Promise<Int32Array> {
  const where = 'mrl.retrieveNearest';
  checkKnownKeys(where, options, ['candidates']);
  checkMatrix(where, 'database', database);
  checkMatrix(where, 'queries', queries);
  if (database.cols !== queries.cols) throw new NestlabArgumentError(where, 'queries.cols', `${database.cols} (database.cols)`, queries.cols);
  const candidates = options.candidates;
  checkInt(where, 'k', k, 1, candidates ? candidates.perQuery : database.rows);
  if (candidates === undefined) return (await knnSearch(database, queries, k, 'cosine')).indices;
  // Re-ranking a shortlist: per query, score only its candidates (a small dot product each).
  const db = normalizeRows(database);
  const q = normalizeRows(queries);
  const out = new Int32Array(queries.rows * k);
  const c = candidates.perQuery;
  const scores = new Float64Array(c);
  const order = new Int32Array(c);
  for (let i = 0; i < q.rows; i++) {
    for (let t = 0; t < c; t++) {
      const j = candidates.indices[i * c + t];
      let sc = 0;
      for (let u = 0; u < q.cols; u++) sc += q.data[i * q.cols + u] * db.data[j * db.cols + u];
      scores[t] = sc;
      order[t] = t;
    }
    const sorted = Array.from(order).sort((a, b) => scores[b] - scores[a] || candidates.indices[i * c + a] - candidates.indices[i * c + b]);
    for (let t = 0; t < k; t++) out[i * k + t] = candidates.indices[i * c + sorted[t]];
  }
  return out;
}

/**
 * mAP@k as MRL codes it (RAIVNLab/MRL `retrieval/compute_metrics.ipynb`; docs/methods/mrl.md §5):
 * per query, matches = (label of the t-th neighbor == query label),
 * precision@t = cumsum(matches)/t, AP = sum of precision@t over matching t, divided by k (not by
 * the number of hits); mAP = mean over queries. Also returns 1-NN accuracy (match at t = 1).
 * Not sklearn's `average_precision_score`.
 *
 * @example const { mapAtK, oneNnAccuracy } = mrl.retrievalMetrics(nn, 10, train.y, test.y); // database labels, then query labels
 */
export function retrievalMetrics(neighbors: Int32Array, k: number, databaseLabels: Int32Array, queryLabels: Int32Array): { mapAtK: number; oneNnAccuracy: number } {
  const where = 'mrl.retrievalMetrics';
  checkInt(where, 'k', k, 1);
  if (neighbors.length !== queryLabels.length * k) {
    throw new NestlabArgumentError(where, 'neighbors', `${queryLabels.length} * ${k} indices`, `${neighbors.length}`);
  }
  let apSum = 0;
  let top1 = 0;
  for (let i = 0; i < queryLabels.length; i++) {
    let hits = 0;
    let ap = 0;
    for (let t = 0; t < k; t++) {
      if (databaseLabels[neighbors[i * k + t]] === queryLabels[i]) {
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
  /** Prefix size: the first `dims` embedding dimensions score this step. */
  dims: number;
  /** Candidates kept per query (at most the previous step's keep). */
  keep: number;
}

/**
 * Adaptive retrieval (MRL §4.3.1; docs/methods/mrl.md §6): shortlist `steps[0].keep` candidates
 * with the first `steps[0].dims` dimensions over the whole database, then re-rank each shortlist
 * with the next step's dims, keeping `keep`, and so on. Cost per query in multiply-adds:
 * dims_0 * N + sum_{s>0} dims_s * keep_{s-1}. Returns the final neighbors and that cost.
 *
 * @example const f = await mrl.funnelRetrieval(zTrain, zTest, [{ dims: 16, keep: 200 }, { dims: 64, keep: 10 }]); // f.neighbors [queries * f.k], f.costPerQuery = 16·N + 64·200
 */
export async function funnelRetrieval(database: Matrix, queries: Matrix, steps: FunnelStep[]): Promise<{ neighbors: Int32Array; k: number; costPerQuery: number }> {
  const where = 'mrl.funnelRetrieval';
  if (!Array.isArray(steps) || steps.length === 0) throw new NestlabArgumentError(where, 'steps', 'a non-empty array of {dims, keep}', steps);
  steps.forEach((s, i) => {
    checkInt(where, `steps[${i}].dims`, s.dims, 1, database.cols);
    checkInt(where, `steps[${i}].keep`, s.keep, 1, i === 0 ? database.rows : steps[i - 1].keep);
  });
  let current = await retrieveNearest(prefixColumns(database, steps[0].dims), prefixColumns(queries, steps[0].dims), steps[0].keep);
  let cost = steps[0].dims * database.rows;
  for (let s = 1; s < steps.length; s++) {
    current = await retrieveNearest(prefixColumns(database, steps[s].dims), prefixColumns(queries, steps[s].dims), steps[s].keep, {
      candidates: { indices: current, perQuery: steps[s - 1].keep },
    });
    cost += steps[s].dims * steps[s - 1].keep;
  }
  return { neighbors: current, k: steps[steps.length - 1].keep, costPerQuery: cost };
}
