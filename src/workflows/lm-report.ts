/**
 * Feature dashboards of an SAE trained on a language model's activations (behind `nestlab report
 * CHECKPOINT --lm MODEL --hook NAME`), after SAEDashboard (github.com/jbloomAus/SAEDashboard) and
 * Neuronpedia: the rows of a capture (`lm.captureBrown`: `<capture>/<hook>/part-*.npy`,
 * `<capture>/rows/part-*.npy` with token, document, position and tag per row, `capture.json`) are
 * encoded by the SAE in batches, and one pass over the codes gathers, per latent, what the page
 * shows (report/text-dashboard.ts):
 *
 * - firing counts, sums and sums of squares of all latents (density; correlation's moments);
 * - the code restricted to the shown latents (the first `maxLatents`, prefix order), from which
 *   come the top rows, the activation histogram (`summarizeLatents`), the equal-width activation
 *   intervals of [0, max] with contexts spread evenly over each interval's rows (SAEDashboard's
 *   interval groups), and the tag and genre shares of the firing rows;
 * - Σ_rows f_i·f_j for each shown latent i and every latent j, so that the Pearson correlation
 *   r_ij = (S_ij/n − μ_i μ_j) / (σ_i σ_j) over all rows (zeros included) needs no second pass.
 *
 * A context is the window of ±contextRadius rows around a row, cut where the document column
 * changes or the position column is not consecutive (consecutive capture rows are consecutive
 * tokens of one stream, `lm.captureBrown`), so a window never crosses a document boundary.
 * Logit effects are W_dec[i]·W_U with W_U = W_Eᵀ for tied embeddings: the decoder direction's
 * direct path to the logits, without ln_final, as SAELens' dashboards compute them.
 *
 * Memory: one shard of activations and one batch's dense pre-activations at a time, the rows
 * metadata (16 bytes a row), the restricted code (8 bytes per firing of a shown latent) and
 * maxLatents·dSae float64 co-moments.
 *
 * Hand-written: a composition of the capture's readers, sae.encode and report.buildTextDashboard.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { silentProgress, type Progress } from '../backend/progress.js';
import { eventLoopYielder } from '../backend/yield.js';
import { initBackend } from '../backend/select.js';
import { densityFloor, densityHistogram } from '../sae/metrics.js';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { argsort } from '../math/order.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { readJsonObject, writeFileAtomic } from '../data/files.js';
import { npyShardFiles, readActivations } from '../data/activations.js';
import { readNpy } from '../data/npy.js';
import { encodeCode, type Sae, type SparseCode } from '../sae/model.js';
import { loadSae } from '../sae/checkpoint.js';
import { disposeLm, type Lm } from '../lm/model.js';
import { loadLm } from '../lm/checkpoint.js';
import type { WordTokenizer } from '../lm/tokenizer.js';
import { summarizeLatents } from '../report/sae-report.js';
import { buildTextDashboard, type ActivationBucket, type NamedShare, type TextDashboardData, type TextDashboardLatent, type TokenContext } from '../report/text-dashboard.js';
import type { CaptureSummary } from './lm-brown.js';

/** What `report.textDashboardData` needs of a capture: its documents (index → id, genre) and tag names (index → tag). */
export type TextDashboardCapture = Pick<CaptureSummary, 'documents' | 'tagNames'>;

/** Options of `report.textDashboardData`. */
export interface TextDashboardDataOptions {
  /** The hook the activations come from, shown on the page. Default "activations". */
  hook?: string;
  /** Dashboards for latents 0 … maxLatents−1 (prefix order). Default min(64, dSae). */
  maxLatents?: number;
  /** Tokens shown on each side of an activating token. Default 8. */
  contextRadius?: number;
  /** Top-activating contexts per latent. Default 10. */
  topContexts?: number;
  /** Equal-width activation intervals of [0, max] per latent. Default 5. */
  buckets?: number;
  /** Contexts shown per interval. Default 3. */
  bucketContexts?: number;
  /** Bins of each latent's activation histogram. Default 30. */
  histogramBins?: number;
  /** Tokens listed with the largest and with the smallest logit effect. Default 10. */
  logitTokens?: number;
  /** Most correlated latents listed. Default 5. */
  correlated?: number;
  /** Rows encoded at a time. Default 4096. */
  batchSize?: number;
  progress?: Progress;
}

const DATA_OPTIONS = ['hook', 'maxLatents', 'contextRadius', 'topContexts', 'buckets', 'bucketContexts', 'histogramBins', 'logitTokens', 'correlated', 'batchSize', 'progress'];

/** Bins of the log10 feature-density histogram (featureDensity's default). */
const DENSITY_BINS = 20;

/** The co-moment matrix maxLatents × dSae (float64) is refused past this many entries (1 GiB). */
const MAX_CO_ENTRIES = 2 ** 27;

interface Settings {
  hook: string;
  maxLatents: number;
  radius: number;
  top: number;
  buckets: number;
  bucketContexts: number;
  bins: number;
  logitTokens: number;
  correlated: number;
  batchSize: number;
  progress: Progress;
}

function settings(where: string, sae: Sae, o: TextDashboardDataOptions): Settings {
  const m = sae.cfg.dSae;
  const maxLatents = checkInt(where, 'options.maxLatents', o.maxLatents ?? Math.min(64, m), 1, m);
  if (maxLatents * m > MAX_CO_ENTRIES) throw new NestlabArgumentError(where, 'options.maxLatents', `at most ${Math.floor(MAX_CO_ENTRIES / m)} for dSae = ${m} (the correlations keep maxLatents·dSae sums)`, maxLatents);
  if (o.hook !== undefined && (typeof o.hook !== 'string' || o.hook === '')) throw new NestlabArgumentError(where, 'options.hook', 'a hook name', o.hook);
  return {
    hook: o.hook ?? 'activations',
    maxLatents,
    radius: checkInt(where, 'options.contextRadius', o.contextRadius ?? 8, 0, 1000),
    top: checkInt(where, 'options.topContexts', o.topContexts ?? 10, 1, 1000),
    buckets: checkInt(where, 'options.buckets', o.buckets ?? 5, 0, 100),
    bucketContexts: checkInt(where, 'options.bucketContexts', o.bucketContexts ?? 3, 1, 100),
    bins: checkInt(where, 'options.histogramBins', o.histogramBins ?? 30, 2, 500),
    logitTokens: checkInt(where, 'options.logitTokens', o.logitTokens ?? 10, 0, 1000),
    correlated: checkInt(where, 'options.correlated', o.correlated ?? 5, 0, 1000),
    batchSize: checkInt(where, 'options.batchSize', o.batchSize ?? 4096, 1, 1 << 20),
    progress: o.progress ?? silentProgress,
  };
}

/** Checks the model, tokenizer and capture metadata against the SAE and the rows (token ids, document and tag indices in range). */
function checkInputs(where: string, sae: Sae, lm: Lm, tokenizer: WordTokenizer, capture: TextDashboardCapture, rows: Int32Array, n: number): void {
  const V = lm?.architecture?.vocabSize;
  if (lm === null || typeof lm !== 'object' || !(lm.params instanceof Map) || typeof V !== 'number') throw new NestlabArgumentError(where, 'lm', 'a language model {architecture, params} (lm.load, lm.create)', lm);
  if (lm.architecture.dModel !== sae.cfg.dIn) throw new NestlabArgumentError(where, 'sae', `an SAE on the model's width dModel = ${lm.architecture.dModel}`, `dIn = ${sae.cfg.dIn}`);
  if (tokenizer === null || typeof tokenizer !== 'object' || !Array.isArray(tokenizer.vocab) || tokenizer.vocab.length !== V) {
    throw new NestlabArgumentError(where, 'tokenizer', `a word tokenizer of the model's ${V} tokens`, tokenizer?.vocab ? `${tokenizer.vocab.length} tokens` : tokenizer);
  }
  if (capture === null || typeof capture !== 'object' || !Array.isArray(capture.documents) || !Array.isArray(capture.tagNames)) {
    throw new NestlabArgumentError(where, 'capture', 'a capture summary {documents, tagNames} (capture.json)', capture);
  }
  capture.documents.forEach((d, i) => {
    if (d === null || typeof d !== 'object' || typeof d.id !== 'string' || typeof d.genre !== 'string') throw new NestlabArgumentError(where, `capture.documents[${i}]`, 'a {id: string, genre: string}', d);
  });
  capture.tagNames.forEach((t, i) => {
    if (typeof t !== 'string') throw new NestlabArgumentError(where, `capture.tagNames[${i}]`, 'a string', t);
  });
  if (!(rows instanceof Int32Array) || rows.length !== 4 * n) throw new NestlabArgumentError(where, 'rows', `an Int32Array of ${n} rows × 4 columns (token, document, position, tag)`, rows);
  const D = capture.documents.length;
  const T = capture.tagNames.length;
  for (let r = 0; r < n; r++) {
    const tok = rows[4 * r];
    const doc = rows[4 * r + 1];
    const tag = rows[4 * r + 3];
    if (tok < 0 || tok >= V) throw new NestlabArgumentError(where, `rows[${r}] token`, `a token id in [0, ${V - 1}]`, tok);
    if (doc < 0 || doc >= D) throw new NestlabArgumentError(where, `rows[${r}] document`, `a document index in [0, ${D - 1}]`, doc);
    if (tag < 0 || tag >= T) throw new NestlabArgumentError(where, `rows[${r}] tag`, `a tag index in [0, ${T - 1}]`, tag);
  }
}

/**
 * The one pass over the codes: moments of every latent, the code of the shown latents (CSR, rows
 * in order), and the co-moments Σ f_i f_j of each shown latent i with every latent j.
 */
class Accumulator {
  rows = 0;
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  readonly co: Float64Array;
  private readonly ptr: number[] = [0];
  private readonly idx: number[] = [];
  private readonly val: number[] = [];

  constructor(
    readonly dSae: number,
    readonly shown: number,
  ) {
    this.count = new Float64Array(dSae);
    this.sum = new Float64Array(dSae);
    this.sumSq = new Float64Array(dSae);
    this.co = new Float64Array(shown * dSae);
  }

  add(code: SparseCode): void {
    const { dSae: m, shown: L, co } = this;
    for (let b = 0; b < code.rows; b++) {
      const s = code.ptr[b];
      const e = code.ptr[b + 1];
      for (let a = s; a < e; a++) {
        const j = code.idx[a];
        const v = code.val[a];
        this.count[j]++;
        this.sum[j] += v;
        this.sumSq[j] += v * v;
        if (j >= L) continue;
        this.idx.push(j);
        this.val.push(v);
        const base = j * m;
        for (let a2 = s; a2 < e; a2++) if (a2 !== a) co[base + code.idx[a2]] += v * code.val[a2];
      }
      this.ptr.push(this.idx.length);
    }
    this.rows += code.rows;
  }

  /** The code of the shown latents over all rows added. */
  shownCode(): SparseCode {
    return { rows: this.rows, dSae: this.dSae, ptr: Int32Array.from(this.ptr), idx: Int32Array.from(this.idx), val: Float32Array.from(this.val) };
  }
}

/** Feeds batches of rows through the encoder into an accumulator; `total` rows in all. */
async function accumulate(where: string, sae: Sae, batches: Iterable<Matrix>, total: number, s: Settings): Promise<{ acc: Accumulator; notes: string[] }> {
  await initBackend();
  const acc = new Accumulator(sae.cfg.dSae, s.maxLatents);
  // A BatchTopK SAE without θ can only be read with the training-time selection (as sae-report does), here per batch.
  const batchSelection = sae.cfg.activation === 'batchtopk' && sae.threshold === null;
  const notes = batchSelection ? [`θ not estimated: BatchTopK's training-time selection (top k·rows) over each batch of ${s.batchSize} rows.`] : [];
  const yieldNow = eventLoopYielder();
  s.progress.start(total, where);
  for (const x of batches) {
    acc.add(await encodeCode(where, sae, x, batchSelection ? { selection: 'batch' } : {}));
    s.progress.update(acc.rows);
    await yieldNow();
  }
  s.progress.stop(`${acc.rows} rows encoded`);
  return { acc, notes };
}

/** The activation of shown latent j on row r (0 when it does not fire). */
function activationAt(code: SparseCode, r: number, j: number): number {
  for (let a = code.ptr[r]; a < code.ptr[r + 1]; a++) if (code.idx[a] === j) return code.val[a];
  return 0;
}

/** Shares from counts, largest first (ties: name order), dropping zeros. */
function shares(counts: Float64Array, offset: number, names: string[], total: number): NamedShare[] {
  const out: NamedShare[] = [];
  for (let t = 0; t < names.length; t++) if (counts[offset + t] > 0) out.push({ name: names[t], share: counts[offset + t] / total });
  return out.sort((a, b) => b.share - a.share || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Everything the page shows, from the accumulated pass. */
function finish(where: string, sae: Sae, acc: Accumulator, rows: Int32Array, tokenizer: WordTokenizer, lm: Lm, capture: TextDashboardCapture, s: Settings, notes: string[]): TextDashboardData {
  const n = acc.rows;
  const m = sae.cfg.dSae;
  const d = sae.cfg.dIn;
  const L = s.maxLatents;
  const code = acc.shownCode();
  const summaries = summarizeLatents(code, sae.cfg.prefixes, L, { top: s.top, labelTop: 0, bins: s.bins, y: null, classes: 0 });
  const vocab = tokenizer.vocab;
  const documents = capture.documents;

  const context = (r: number, j: number): TokenContext => {
    const doc = rows[4 * r + 1];
    const sameRun = (a: number, b: number) => rows[4 * a + 1] === doc && rows[4 * b + 1] === doc && rows[4 * b + 2] === rows[4 * a + 2] + 1;
    let lo = r;
    while (lo > 0 && r - lo < s.radius && sameRun(lo - 1, lo)) lo--;
    let hi = r;
    while (hi < n - 1 && hi - r < s.radius && sameRun(hi, hi + 1)) hi++;
    const tokens: string[] = [];
    const values: number[] = [];
    for (let q = lo; q <= hi; q++) {
      tokens.push(vocab[rows[4 * q]]);
      values.push(activationAt(code, q, j));
    }
    return { tokens, values, focus: r - lo, row: r, document: documents[doc].id, genre: documents[doc].genre };
  };

  // tag and genre tallies, and the rows per activation interval (counted, then picked evenly)
  const T = capture.tagNames.length;
  const genreNames = [...new Set(documents.map((x) => x.genre))];
  const genreOf = Int32Array.from(documents.map((x) => genreNames.indexOf(x.genre)));
  const G = genreNames.length;
  const B = s.buckets;
  const tagCount = new Float64Array(L * T);
  const genreCount = new Float64Array(L * G);
  const bucketCount = new Int32Array(L * B);
  const bucketOf = (j: number, v: number) => Math.min(B - 1, Math.floor((v / summaries[j].maxActivation) * B));
  for (let r = 0; r < n; r++) {
    for (let a = code.ptr[r]; a < code.ptr[r + 1]; a++) {
      const j = code.idx[a];
      tagCount[j * T + rows[4 * r + 3]]++;
      genreCount[j * G + genreOf[rows[4 * r + 1]]]++;
      if (B > 0) bucketCount[j * B + bucketOf(j, code.val[a])]++;
    }
  }
  // The t-th of k picks among c rows is the one at floor((t + 1/2)·c/k): spread over the interval's rows in capture order.
  const targets: number[][] = Array.from({ length: L * B }, (_, jb) => {
    const c = bucketCount[jb];
    const k = Math.min(c, s.bucketContexts);
    return Array.from({ length: k }, (_, t) => Math.floor(((t + 0.5) * c) / k));
  });
  const picked: number[][] = Array.from({ length: L * B }, () => []);
  const seen = new Int32Array(L * B);
  if (B > 0) {
    for (let r = 0; r < n; r++) {
      for (let a = code.ptr[r]; a < code.ptr[r + 1]; a++) {
        const jb = code.idx[a] * B + bucketOf(code.idx[a], code.val[a]);
        if (targets[jb][picked[jb].length] === seen[jb]++) picked[jb].push(r);
      }
    }
  }

  // logit effects: W_dec[j]·W_U, W_U = W_Eᵀ when tied
  const V = lm.architecture.vocabSize;
  const tied = lm.architecture.tiedEmbeddings;
  const wVar = lm.params.get(tied ? 'embed.W_E' : 'unembed.W_U');
  if (wVar === undefined) throw new NestlabArgumentError(where, 'lm.params', `a model with ${tied ? 'embed.W_E' : 'unembed.W_U'}`, 'absent');
  const w = wVar.dataSync() as Float32Array;
  const logitEffects = (j: number): Float64Array => {
    const dec = sae.params.wDec.subarray(j * d, (j + 1) * d);
    const eff = new Float64Array(V);
    if (tied) {
      for (let v = 0; v < V; v++) {
        let acc2 = 0;
        for (let k = 0; k < d; k++) acc2 += dec[k] * w[v * d + k];
        eff[v] = acc2;
      }
    } else {
      for (let k = 0; k < d; k++) {
        const c = dec[k];
        for (let v = 0; v < V; v++) eff[v] += c * w[k * V + v];
      }
    }
    return eff;
  };

  // moments for the correlations
  const mean = new Float64Array(m);
  const variance = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    mean[j] = acc.sum[j] / n;
    variance[j] = acc.sumSq[j] / n - mean[j] * mean[j];
  }

  const latents: TextDashboardLatent[] = summaries.map((sm) => {
    const j = sm.latent;
    const eff = logitEffects(j);
    const order = argsort(eff);
    const nl = Math.min(s.logitTokens, V);
    const bottomLogits = Array.from({ length: nl }, (_, i) => ({ token: vocab[order[i]], value: eff[order[i]] }));
    const topLogits = Array.from({ length: nl }, (_, i) => ({ token: vocab[order[V - 1 - i]], value: eff[order[V - 1 - i]] }));
    const correlated: { latent: number; correlation: number }[] = [];
    if (variance[j] > 0) {
      for (let k = 0; k < m; k++) {
        if (k === j || !(variance[k] > 0)) continue;
        const r = (acc.co[j * m + k] / n - mean[j] * mean[k]) / Math.sqrt(variance[j] * variance[k]);
        if (r > 0) correlated.push({ latent: k, correlation: r });
      }
      correlated.sort((a, b) => b.correlation - a.correlation || a.latent - b.latent);
      correlated.length = Math.min(correlated.length, s.correlated);
    }
    const buckets: ActivationBucket[] = [];
    if (sm.fires > 0) {
      for (let b = B - 1; b >= 0; b--) {
        buckets.push({ lo: b / B, hi: (b + 1) / B, count: bucketCount[j * B + b], contexts: picked[j * B + b].map((r) => context(r, j)) });
      }
    }
    return {
      latent: j,
      group: sm.group,
      density: sm.frequency,
      fires: sm.fires,
      maxActivation: sm.maxActivation,
      meanActivation: sm.meanActivation,
      topContexts: sm.topRows.map((r) => context(r, j)),
      buckets,
      histogram: sm.histogram,
      topLogits,
      bottomLogits,
      correlated,
      tags: sm.fires > 0 ? shares(tagCount, j * T, capture.tagNames, sm.fires) : [],
      genres: sm.fires > 0 ? shares(genreCount, j * G, genreNames, sm.fires) : [],
    };
  });

  // log10 feature density of all latents, binned as sae.featureDensity bins it
  const lo = densityFloor(n);
  const edges = Array.from({ length: DENSITY_BINS + 1 }, (_, i) => lo + (-lo * i) / DENSITY_BINS);
  const { counts, dead } = densityHistogram(Array.from(acc.count, (c) => c / n), 'prefix', 0, m, lo, 0, DENSITY_BINS);
  return { hook: s.hook, rows: n, dSae: m, prefixes: [...sae.cfg.prefixes], density: { edges, counts, dead }, latents, notes };
}

/** Splits a matrix into views of at most `size` rows (no copy). */
function* rowBatches(x: Matrix, size: number, limit = x.rows): Generator<Matrix> {
  for (let s = 0; s < limit; s += size) {
    const rows = Math.min(size, limit - s);
    yield { data: x.data.subarray(s * x.cols, (s + rows) * x.cols), rows, cols: x.cols };
  }
}

function checkSaeObject(where: string, sae: unknown): Sae {
  const s = sae as Sae;
  if (s === null || typeof s !== 'object' || typeof s.cfg !== 'object' || s.cfg === null || !(s.params?.wDec instanceof Float32Array) || s.params.wDec.length !== s.cfg.dSae * s.cfg.dIn) {
    throw new NestlabArgumentError(where, 'sae', 'an Sae {cfg, params, threshold} (sae.load, sae.create)', sae);
  }
  return s;
}

/**
 * The data of a text dashboard page from rows in memory: `acts` [rows, dIn] are the activations
 * the SAE reads, `rows` the capture's int32 metadata [rows × 4] (token id, document index,
 * position in the document, tag index; consecutive rows are consecutive tokens), `capture` the
 * capture's documents and tag names. Encodes in batches (the inference activation, `sae.encode`)
 * and computes per latent (0 … maxLatents−1): density, max and mean, top contexts, contexts per
 * equal-width activation interval, activation histogram, logit effects W_dec[i]·W_U (W_Eᵀ when
 * tied; no ln_final, as SAELens' dashboards), the most correlated latents (Pearson r over rows),
 * and the tag and genre shares of its firing rows; plus the log10 density histogram of all latents.
 *
 * @example const data = await report.textDashboardData(saeModel, acts, rows, tokenizer, model, capture, { hook: 'blocks.1.hook_resid_pre' }); // report.buildTextDashboard(data)
 */
export async function textDashboardData(
  sae: Sae,
  acts: Matrix,
  rows: Int32Array,
  tokenizer: WordTokenizer,
  lm: Lm,
  capture: TextDashboardCapture,
  options: TextDashboardDataOptions = {},
): Promise<TextDashboardData> {
  const where = 'report.textDashboardData';
  const model = checkSaeObject(where, sae);
  checkKnownKeys(where, options, DATA_OPTIONS);
  const s = settings(where, model, options);
  const x = checkMatrix(where, 'acts', acts, 1, 1);
  if (x.cols !== model.cfg.dIn) throw new NestlabArgumentError(where, 'acts.cols', `the SAE's dIn = ${model.cfg.dIn}`, x.cols);
  checkInputs(where, model, lm, tokenizer, capture, rows, x.rows);
  const { acc, notes } = await accumulate(where, model, rowBatches(x, s.batchSize), x.rows, s);
  return finish(where, model, acc, rows, tokenizer, lm, capture, s, notes);
}

/** Options of `report.lmSaeReport`. */
export interface LmSaeReportOptions {
  /** The SAE: a checkpoint folder or a saved SAE (`sae.load`). */
  sae: string;
  /** The language model's folder (`lm.load`). */
  lm: string;
  /** The capture folder (`lm.captureBrown`: capture.json, rows/, one folder of shards per hook). */
  capture: string;
  /** The hook the SAE reads. Default the capture's only hook (required when it has several). */
  hook?: string;
  /** The HTML file. Default `<sae>/dashboard.html`. */
  out?: string;
  /** Dashboards for latents 0 … maxLatents−1. Default min(64, dSae). */
  maxLatents?: number;
  /** Tokens shown on each side of an activating token. Default 8. */
  contextRadius?: number;
  /** Read at most this many rows of the capture (its first). Default all. */
  maxRows?: number;
  progress?: Progress;
}

/** What `report.lmSaeReport` wrote. */
export interface LmSaeReportResult {
  /** The HTML file. */
  path: string;
  /** Latents with a dashboard. */
  latents: number;
  /** Capture rows encoded. */
  rows: number;
  seconds: number;
}

/** The capture's summary, checked for what the dashboards read. */
function readCapture(where: string, folder: string): CaptureSummary {
  const c = readJsonObject(where, join(folder, 'capture.json')) as unknown as CaptureSummary;
  if (!Array.isArray(c.hooks) || c.hooks.some((h) => typeof h !== 'string') || c.hooks.length === 0) throw new NestlabArgumentError(where, `${join(folder, 'capture.json')} hooks`, 'a non-empty array of hook names', c.hooks);
  if (!Array.isArray(c.documents) || !Array.isArray(c.tagNames)) throw new NestlabArgumentError(where, join(folder, 'capture.json'), 'a capture summary with documents and tagNames (lm.captureBrown)', 'neither');
  return c;
}

/**
 * Writes the feature dashboards of an SAE trained on a capture of a language model (SAEDashboard /
 * Neuronpedia style; see `report.buildTextDashboard`) as one self-contained HTML file, atomically:
 * reads the capture's shards of `hook` and its rows metadata (at most `maxRows` rows), encodes
 * them with the SAE in batches of 4096 rows, and computes the data as `report.textDashboardData`
 * does, the logit effects from the model's (un)embedding.
 *
 * @example const { path } = await report.lmSaeReport({ sae: 'runs/sae-l1', lm: 'runs/lm/model', capture: 'runs/acts', hook: 'blocks.1.hook_resid_pre' }); // runs/sae-l1/dashboard.html
 */
export async function lmSaeReport(options: LmSaeReportOptions): Promise<LmSaeReportResult> {
  const where = 'report.lmSaeReport';
  const t0 = performance.now();
  if (options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', 'an object {sae, lm, capture, ...}', options);
  checkKnownKeys(where, options, ['sae', 'lm', 'capture', 'hook', 'out', 'maxLatents', 'contextRadius', 'maxRows', 'progress']);
  for (const k of ['sae', 'lm', 'capture'] as const) {
    const p = options[k];
    if (typeof p !== 'string' || p === '' || !existsSync(p) || !statSync(p).isDirectory()) throw new NestlabArgumentError(where, `options.${k}`, 'an existing folder', p);
  }
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out === '')) throw new NestlabArgumentError(where, 'options.out', 'a file path', options.out);
  const maxRows = options.maxRows === undefined ? Infinity : checkInt(where, 'options.maxRows', options.maxRows, 1);
  const capture = readCapture(where, options.capture);
  let hook = options.hook;
  if (hook === undefined) {
    if (capture.hooks.length !== 1) throw new NestlabArgumentError(where, 'options.hook', `one of the capture's hooks (${capture.hooks.join(', ')})`, 'none');
    hook = capture.hooks[0];
  } else if (typeof hook !== 'string' || !capture.hooks.includes(hook)) {
    throw new NestlabArgumentError(where, 'options.hook', `one of the capture's hooks (${capture.hooks.join(', ')})`, hook);
  }
  const actShards = npyShardFiles(join(options.capture, hook));
  const rowShards = npyShardFiles(join(options.capture, 'rows'));
  if (actShards.length !== rowShards.length || actShards.some((p, i) => basename(p) !== basename(rowShards[i]))) {
    throw new NestlabArgumentError(where, `options.capture ${options.capture}`, `the same shard files in ${hook}/ and rows/`, `${actShards.length} and ${rowShards.length} shards`);
  }

  // rows metadata, all of it (16 bytes a row), up to maxRows
  const parts: Int32Array[] = [];
  const shardRows: number[] = [];
  let n = 0;
  for (const path of rowShards) {
    if (n >= maxRows) break;
    const a = readNpy(path);
    if (!(a.data instanceof Int32Array) || a.shape.length !== 2 || a.shape[1] !== 4) throw new NestlabArgumentError(where, path, 'an int32 array [rows, 4] (token, document, position, tag)', `shape [${a.shape.join(', ')}]`);
    const take = Math.min(a.shape[0], maxRows - n);
    parts.push(a.data.subarray(0, 4 * take));
    shardRows.push(a.shape[0]);
    n += take;
  }
  const rows = new Int32Array(4 * n);
  parts.reduce((at, p) => (rows.set(p, at), at + p.length), 0);

  const sae = loadSae(options.sae);
  const opts: TextDashboardDataOptions = { hook, ...(options.maxLatents !== undefined ? { maxLatents: options.maxLatents } : {}), ...(options.contextRadius !== undefined ? { contextRadius: options.contextRadius } : {}), ...(options.progress ? { progress: options.progress } : {}) };
  const s = settings(where, sae, opts);
  const { model, tokenizer } = loadLm(options.lm, where);
  try {
    checkInputs(where, sae, model, tokenizer, capture, rows, n);
    const d = sae.cfg.dIn;
    // one shard in memory at a time, encoded in batches of s.batchSize rows
    function* shards(): Generator<Matrix> {
      let done = 0;
      for (let i = 0; i < parts.length; i++) {
        const x = readActivations(actShards[i]);
        if (x.rows !== shardRows[i] || x.cols !== d) throw new NestlabArgumentError(where, actShards[i], `[${shardRows[i]}, ${d}] (the rows of ${rowShards[i]} × the SAE's dIn)`, `[${x.rows}, ${x.cols}]`);
        const take = parts[i].length / 4;
        yield* rowBatches(x, s.batchSize, take);
        done += take;
      }
      if (done !== n) throw new NestlabArgumentError(where, `options.capture ${options.capture}`, `${n} rows of activations`, done);
    }
    const { acc, notes } = await accumulate(where, sae, shards(), n, s);
    const data = finish(where, sae, acc, rows, tokenizer, model, capture, s, notes);
    const cfg = sae.cfg;
    data.sources = [
      { label: 'SAE', value: resolve(options.sae) },
      { label: 'SAE config', value: `d_in ${cfg.dIn}, d_sae ${cfg.dSae}, ${cfg.activation}${cfg.activation === 'relu' ? '' : ` k ${cfg.k}`}, prefixes [${cfg.prefixes.join(', ')}]` },
      { label: 'language model', value: resolve(options.lm) },
      { label: 'capture', value: `${resolve(options.capture)} (${capture.split ?? '?'} split, ${n}${n < capture.rows ? ` of ${capture.rows}` : ''} rows)` },
    ];
    const path = options.out ?? join(options.sae, 'dashboard.html');
    writeFileAtomic(path, buildTextDashboard(data));
    return { path, latents: data.latents.length, rows: n, seconds: (performance.now() - t0) / 1000 };
  } finally {
    disposeLm(model);
  }
}
