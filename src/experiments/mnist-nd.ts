/**
 * Figure `mnist-nd`: MNIST-Nd (Turishcheva, Hansel, Ritzert, Weis & Ecker, NeurReps 2024). Mixture
 * VAEs (models.createMixtureVae: a Gaussian-mixture prior with one component per digit class)
 * are trained on the same MNIST digits with latent sizes 2 … 64; the posterior means of the digits
 * are six data sets of the same structure at growing dimension. The paper benchmarks clustering
 * on them by the adjusted Rand index against the digit labels and finds that clustering gets
 * harder as the dimension grows (Leiden the most robust; Leiden is not implemented here).
 *
 * Here: k-means, a full-covariance Gaussian mixture and DBSCAN on each data set, scored by ARI
 * and AMI against the digits (k = 10 for k-means and the mixture); k-means on a seeded random
 * projection of the pixels to the same dimension as a baseline without the VAE; and, across the
 * sizes, linear CKA between every pair of the latent spaces and Rips persistence (H0, H1) of a
 * scale-normalized subsample. At full size the six data sets are written as .npy with the labels
 * (`datasetsDir`). docs/methods/mnist-nd.md.
 */
import { isAbsolute, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { writeFolderAtomic } from '../data/files.js';
import { matmul, randomProjection, selectRows, type Matrix } from '../data/matrix.js';
import { loadMnistAll } from '../data/mnist.js';
import { writeNpy } from '../data/npy.js';
import { quantileSorted, spearmanCorrelation } from '../math/order.js';
import { createMixtureVae, disposeMixtureVae, encodeMixtureVae, mixtureVaeElbo, trainMixtureVae } from '../models/mixture-vae.js';
import { linearCka } from '../similarity/cka.js';
import { adjustedMutualInformation, adjustedRandIndex, dbscan, gaussianMixture, kMeans } from '../similarity/cluster.js';
import { nearestNeighbors } from '../similarity/knn.js';
import { totalPersistence } from '../topology/diagram.js';
import { pairwiseDistances } from '../topology/graph.js';
import { ripsPersistenceFromDistances } from '../topology/persistence.js';
import { defineExperiment } from './define.js';

/** Parameters of a run. */
export interface MnistNdParams {
  /** MNIST digits used (a seeded draw of the 10,000); every VAE trains on them and every data set holds them. */
  digits: number;
  /** Latent sizes, one mixture VAE (one data set) each. */
  latents: number[];
  /** Mixture components of each VAE's prior (10: one per digit class). */
  components: number;
  /** Hidden widths of the encoder (the decoder mirrors them). */
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** KL weight β of every VAE (1: the ELBO). */
  beta: number;
  /** Clusters asked of k-means and of the Gaussian mixture (10 digits). */
  clusters: number;
  /** DBSCAN's minPoints (scikit-learn's min_samples). */
  dbscanMinPoints: number;
  /** DBSCAN's eps: this quantile of the rows' distance to their (minPoints − 1)-th nearest other row, per data set. */
  dbscanQuantile: number;
  /** Rows of the seeded subsample whose Rips persistence is computed (the same rows in every data set). */
  topologyPoints: number;
  /** Folder for the data sets as .npy ('' writes none); a relative path is taken from the repository root. */
  datasetsDir: string;
}

/** The clustering methods benchmarked. */
export const MNIST_ND_METHODS = ['k-means', 'Gaussian mixture', 'DBSCAN', 'k-means on a random projection'] as const;
/** One clustering method of the benchmark. */
export type MnistNdMethod = (typeof MNIST_ND_METHODS)[number];

/** A row: one number of one panel at one latent size. */
export type MnistNdRow = {
  /** 'clustering' (ARI, AMI, clusters found, noise share), 'similarity' (linear CKA), 'topology' (persistence), 'training' (ELBO parts). */
  panel: 'clustering' | 'similarity' | 'topology' | 'training';
  /** Latent size of the data set. */
  latent: number;
  /** The clustering method, 'linear CKA', 'Rips persistence' or 'mixture VAE'. */
  method: string;
  /** 'ARI', 'AMI', 'clusters', 'noise'; 'CKA'; 'H0 total', 'H1 total', 'H1 longest'; 'ELBO', 'log-likelihood', 'KL'. */
  measure: string;
  value: number;
  /** The similarity panel: the latent size of the other data set; else null. */
  partner: number | null;
};

/** What the run found. */
export interface MnistNdMeta {
  /** What the paper reports. */
  paperClaim: string;
  /** ARI per method, one value per latent size (in `params.latents` order). */
  ari: Record<MnistNdMethod, number[]>;
  /** AMI per method, likewise. */
  ami: Record<MnistNdMethod, number[]>;
  /** ARI of a seeded shuffle of the labels against the labels (chance level, about 0). */
  ariShuffledLabels: number;
  /** Per VAE method: Spearman ρ of ARI with the latent size, ARI at the largest minus at the smallest size, the size of the highest ARI and ARI at the largest minus that highest. */
  trend: Record<'k-means' | 'Gaussian mixture' | 'DBSCAN', { spearman: number; change: number; peakLatent: number; changeFromPeak: number }>;
  /** Whether ARI falls with dimension for the majority of the three methods (ρ < 0 and change < 0). */
  harderWithDimension: boolean;
  /** How eps was chosen, and its value, the clusters found and the noise share per latent size. */
  dbscan: { rule: string; eps: number[]; clusters: number[]; noise: number[] };
  /** Mean ELBO (nats per digit) of each VAE on its digits after training, and its KL part. */
  elbo: number[];
  kl: number[];
  /** Mean training loss per epoch of each VAE. */
  history: number[][];
  /** Linear CKA between the data sets, latents × latents. */
  cka: number[][];
  /** Per latent size: total H0 and H1 persistence and the longest H1 bar, distances divided by the subsample's median distance. */
  topology: { h0Total: number[]; h1Total: number[]; h1Longest: number[] };
  /** Where the data sets were written (null when `datasetsDir` is ''). */
  datasets: { folder: string; files: string[]; rows: number } | null;
  /** One line per finding, from the numbers. */
  verdicts: string[];
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The DBSCAN eps of one data set: the q-quantile of each row's distance to its (minPoints − 1)-th nearest other row. */
async function dbscanEps(x: Matrix, minPoints: number, q: number): Promise<number> {
  const k = Math.max(1, minPoints - 1);
  const { distances } = await nearestNeighbors(x, k);
  const kth = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) kth[i] = distances[i * k + k - 1];
  kth.sort();
  return quantileSorted(kth, q);
}

/** Rips persistence of the rows, distances divided by their median (scale-free across data sets). */
function topologyOf(x: Matrix): { h0Total: number; h1Total: number; h1Longest: number } {
  const n = x.rows;
  const d = pairwiseDistances(x);
  const upper: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upper.push(d[i * n + j]);
  upper.sort((a, b) => a - b);
  const median = quantileSorted(upper, 0.5);
  for (let i = 0; i < d.length; i++) d[i] /= median;
  const { bars } = ripsPersistenceFromDistances(d, { maxDim: 1, layout: 'square' });
  let h1Longest = 0;
  for (let i = 0; i < bars[1].births.length; i++) h1Longest = Math.max(h1Longest, bars[1].deaths[i] - bars[1].births[i]);
  return { h0Total: totalPersistence(bars[0]), h1Total: totalPersistence(bars[1]), h1Longest };
}

export const mnistNd = defineExperiment<MnistNdParams, MnistNdRow, MnistNdMeta>({
  id: 'mnist-nd',
  title: 'MNIST-Nd: clustering mixture-VAE latents of MNIST at 2 to 64 dimensions',
  sizes: {
    smoke: {
      digits: 2000, latents: [2, 8], components: 10, hidden: [256], epochs: 8, batchSize: 64, learningRate: 2e-3, beta: 1,
      clusters: 10, dbscanMinPoints: 10, dbscanQuantile: 0.5, topologyPoints: 150, datasetsDir: '',
    },
    full: {
      digits: 10000, latents: [2, 4, 8, 16, 32, 64], components: 10, hidden: [512, 256], epochs: 30, batchSize: 128, learningRate: 1e-3, beta: 1,
      clusters: 10, dbscanMinPoints: 10, dbscanQuantile: 0.5, topologyPoints: 400, datasetsDir: 'figures/mnist-nd',
    },
  },
  async run({ params: cfg, seed, progress }) {
    const L = cfg.latents.length;
    progress.start(2 * L + 2, 'mnist-nd');
    let done = 0;
    const tick = (info: string) => progress.update(++done, info);

    // The digits: a seeded draw of `digits` of the 10,000, kept in that order in every data set.
    const all = loadMnistAll();
    const chosen = new Rng(seed).permutation(all.x.rows).subarray(0, Math.min(cfg.digits, all.x.rows));
    const pixels = selectRows(all.x, chosen);
    const labels = Int32Array.from(chosen, (i) => all.y[i]);

    // One mixture VAE per latent size; its data set is the posterior means of the digits.
    const sets: Matrix[] = [];
    const elbo: number[] = [];
    const kl: number[] = [];
    const history: number[][] = [];
    for (const [i, latent] of cfg.latents.entries()) {
      const vae = createMixtureVae({ inputDim: pixels.cols, latent, components: cfg.components, hidden: cfg.hidden, seed: seed + 100 * i });
      try {
        const h = await trainMixtureVae(vae, pixels, { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, beta: cfg.beta, seed: seed + 100 * i + 1 });
        history.push(h.map((r) => r.loss));
        const e = await mixtureVaeElbo(vae, pixels, { seed });
        elbo.push(e.elbo);
        kl.push(e.kl);
        sets.push(await encodeMixtureVae(vae, pixels));
      } finally {
        disposeMixtureVae(vae);
      }
      tick(`VAE ${latent}d: ELBO ${elbo[i].toFixed(1)}`);
    }

    let datasets: MnistNdMeta['datasets'] = null;
    if (cfg.datasetsDir !== '') {
      const folder = isAbsolute(cfg.datasetsDir) ? cfg.datasetsDir : join(REPO_ROOT, cfg.datasetsDir);
      const files = [...cfg.latents.map((d) => `mnist-${d}d.npy`), 'labels.npy'];
      writeFolderAtomic(folder, (tmp) => {
        sets.forEach((z, i) => writeNpy(join(tmp, files[i]), { shape: [z.rows, z.cols], data: z.data }));
        writeNpy(join(tmp, 'labels.npy'), { shape: [labels.length], data: labels });
      }, "figures.figure('mnist-nd')");
      datasets = { folder: cfg.datasetsDir, files, rows: labels.length };
    }

    // Clustering benchmark.
    const rows: MnistNdRow[] = [];
    const ari = Object.fromEntries(MNIST_ND_METHODS.map((m) => [m, [] as number[]])) as Record<MnistNdMethod, number[]>;
    const ami = Object.fromEntries(MNIST_ND_METHODS.map((m) => [m, [] as number[]])) as Record<MnistNdMethod, number[]>;
    const dbscanInfo: MnistNdMeta['dbscan'] = {
      rule: `eps = the ${cfg.dbscanQuantile} quantile of each row's distance to its ${cfg.dbscanMinPoints - 1}-th nearest other row (so about that share of rows are core points), minPoints ${cfg.dbscanMinPoints}, per data set; no label is used`,
      eps: [], clusters: [], noise: [],
    };
    const score = (latent: number, method: MnistNdMethod, found: Int32Array) => {
      const a = adjustedRandIndex(found, labels);
      const m = adjustedMutualInformation(found, labels);
      ari[method].push(a);
      ami[method].push(m);
      const clusters = new Set(found).size - (found.includes(-1) ? 1 : 0);
      rows.push({ panel: 'clustering', latent, method, measure: 'ARI', value: a, partner: null });
      rows.push({ panel: 'clustering', latent, method, measure: 'AMI', value: m, partner: null });
      rows.push({ panel: 'clustering', latent, method, measure: 'clusters', value: clusters, partner: null });
    };
    for (const [i, latent] of cfg.latents.entries()) {
      const z = sets[i];
      score(latent, 'k-means', kMeans(z, cfg.clusters, { seed }).labels);
      score(latent, 'Gaussian mixture', gaussianMixture(z, cfg.clusters, { seed }).labels);
      const eps = await dbscanEps(z, cfg.dbscanMinPoints, cfg.dbscanQuantile);
      const db = dbscan(z, { eps, minPoints: cfg.dbscanMinPoints });
      score(latent, 'DBSCAN', db);
      const noise = db.reduce((s, l) => s + (l === -1 ? 1 : 0), 0) / db.length;
      dbscanInfo.eps.push(eps);
      dbscanInfo.clusters.push(new Set(db).size - (db.includes(-1) ? 1 : 0));
      dbscanInfo.noise.push(noise);
      rows.push({ panel: 'clustering', latent, method: 'DBSCAN', measure: 'noise', value: noise, partner: null });
      const projected = matmul(pixels, randomProjection(pixels.cols, latent, { seed: seed + latent }));
      score(latent, 'k-means on a random projection', kMeans(projected, cfg.clusters, { seed }).labels);
      for (const [measure, value] of [['ELBO', elbo[i]], ['log-likelihood', elbo[i] + kl[i]], ['KL', kl[i]]] as const) {
        rows.push({ panel: 'training', latent, method: 'mixture VAE', measure, value, partner: null });
      }
      tick(`clustering ${latent}d: k-means ARI ${ari['k-means'][i].toFixed(2)}`);
    }
    const ariShuffledLabels = adjustedRandIndex(Int32Array.from(new Rng(seed + 7).permutation(labels.length), (j) => labels[j]), labels);

    // Similarity across the sizes: linear CKA of every pair of data sets (same digits, same order).
    const cka = cfg.latents.map(() => new Array<number>(L).fill(1));
    for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) cka[i][j] = cka[j][i] = await linearCka(sets[i], sets[j]);
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) rows.push({ panel: 'similarity', latent: cfg.latents[i], method: 'linear CKA', measure: 'CKA', value: cka[i][j], partner: cfg.latents[j] });
    tick('CKA');

    // Topology across the sizes: the same seeded subsample in every data set.
    const sub = new Rng(seed + 3).permutation(labels.length).subarray(0, Math.min(cfg.topologyPoints, labels.length));
    const topology: MnistNdMeta['topology'] = { h0Total: [], h1Total: [], h1Longest: [] };
    for (const [i, latent] of cfg.latents.entries()) {
      const t = topologyOf(selectRows(sets[i], sub));
      topology.h0Total.push(t.h0Total);
      topology.h1Total.push(t.h1Total);
      topology.h1Longest.push(t.h1Longest);
      for (const [measure, value] of [['H0 total', t.h0Total], ['H1 total', t.h1Total], ['H1 longest', t.h1Longest]] as const) {
        rows.push({ panel: 'topology', latent, method: 'Rips persistence', measure, value, partner: null });
      }
    }
    tick('topology');
    progress.stop();

    // Verdicts from the numbers.
    const trend = {} as MnistNdMeta['trend'];
    for (const m of ['k-means', 'Gaussian mixture', 'DBSCAN'] as const) {
      const v = ari[m];
      const peak = v.indexOf(Math.max(...v));
      trend[m] = { spearman: L > 2 ? spearmanCorrelation(cfg.latents, v) : Math.sign(v[L - 1] - v[0]), change: v[L - 1] - v[0], peakLatent: cfg.latents[peak], changeFromPeak: v[L - 1] - v[peak] };
    }
    const falling = Object.values(trend).filter((t) => t.spearman < 0 && t.change < 0).length;
    const harderWithDimension = falling >= 2;
    const lo = cfg.latents[0];
    const hi = cfg.latents[L - 1];
    const fmt = (v: number[]) => v.map((a) => a.toFixed(2)).join(', ');
    const beatsProjection = cfg.latents.filter((_, i) => ari['k-means'][i] > ari['k-means on a random projection'][i]).length;
    const verdicts = [
      `ARI at latent ${cfg.latents.join(', ')}: k-means ${fmt(ari['k-means'])}; Gaussian mixture ${fmt(ari['Gaussian mixture'])}; DBSCAN ${fmt(ari.DBSCAN)} (shuffled labels ${ariShuffledLabels.toFixed(3)})`,
      `clustering gets harder as the dimension grows (the paper's finding): ${harderWithDimension ? 'reproduced' : 'not reproduced'}: ARI falls from ${lo}d to ${hi}d with a negative rank correlation for ${falling} of 3 methods; from its highest value (k-means at ${trend['k-means'].peakLatent}d, Gaussian mixture at ${trend['Gaussian mixture'].peakLatent}d) to ${hi}d it changes by ${trend['k-means'].changeFromPeak.toFixed(2)} and ${trend['Gaussian mixture'].changeFromPeak.toFixed(2)}`,
      `the VAE latents cluster better than a random projection of the pixels to the same dimension (k-means ARI) at ${beatsProjection} of ${L} sizes (projection: ${fmt(ari['k-means on a random projection'])})`,
      `DBSCAN (eps: the ${cfg.dbscanQuantile} quantile of the distance to the ${cfg.dbscanMinPoints - 1}-th neighbor) finds ${dbscanInfo.clusters.join(', ')} clusters with ${dbscanInfo.noise.map((n) => `${(100 * n).toFixed(0)}%`).join(', ')} noise`,
      L > 1 ? `linear CKA between neighboring sizes: ${cfg.latents.slice(1).map((d, i) => `${cfg.latents[i]}d–${d}d ${cka[i][i + 1].toFixed(2)}`).join(', ')}` : 'one latent size: no CKA',
    ];
    return {
      rows,
      meta: {
        paperClaim: 'Turishcheva et al. 2024: on MNIST-Nd (mixture VAEs at 2–64 latent dimensions, same digits) the ARI of common clustering algorithms falls as the dimension grows; Leiden degrades least',
        ari, ami, ariShuffledLabels, trend, harderWithDimension, dbscan: dbscanInfo, elbo, kl, history, cka, topology, datasets, verdicts,
      },
    };
  },
  spec: (rows) => mnistNdSpec(rows),
});

/**
 * ARI and AMI vs latent size per method (log₂ axis), the CKA heat map of the data sets, and their
 * scale-free Rips persistence vs latent size.
 *
 * @internal exported to redraw a saved result.
 * @example const spec = mnistNdSpec(result.rows);
 */
export function mnistNdSpec(rows: MnistNdRow[]): TopLevelSpec {
  const latentAxis = { field: 'latent', type: 'quantitative' as const, scale: { type: 'log' as const, base: 2 }, axis: { values: [2, 4, 8, 16, 32, 64] }, title: 'latent dimension' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'MNIST-Nd: clustering mixture-VAE latents across dimensions',
      subtitle: 'the same digits encoded at each latent size: agreement of each clustering with the digit labels, CKA between the sizes, scale-free Rips persistence (verdicts in the meta)',
    },
    data: { values: rows },
    hconcat: [
      {
        transform: [{ filter: "datum.panel === 'clustering' && (datum.measure === 'ARI' || datum.measure === 'AMI')" }],
        facet: { column: { field: 'measure', type: 'nominal', title: null, sort: ['ARI', 'AMI'] } },
        spec: {
          width: 220,
          height: 200,
          mark: { type: 'line', point: true },
          encoding: {
            x: latentAxis,
            y: { field: 'value', type: 'quantitative', title: 'agreement with the digit labels', scale: { domain: [-0.05, 1] } },
            color: { field: 'method', type: 'nominal', sort: [...MNIST_ND_METHODS], legend: { orient: 'bottom', columns: 2, labelLimit: 260 } },
            strokeDash: { condition: { test: "datum.method === 'k-means on a random projection'", value: [4, 3] }, value: [1, 0] },
            tooltip: [{ field: 'method' }, { field: 'latent' }, { field: 'value', format: '.3f' }],
          },
        },
      },
      {
        title: 'linear CKA between the data sets',
        transform: [{ filter: "datum.panel === 'similarity'" }],
        width: 180,
        height: 180,
        mark: 'rect',
        encoding: {
          x: { field: 'partner', type: 'ordinal', title: 'latent dimension' },
          y: { field: 'latent', type: 'ordinal', title: 'latent dimension' },
          color: { field: 'value', type: 'quantitative', scale: { domain: [0, 1], scheme: 'viridis' }, title: 'CKA' },
          tooltip: [{ field: 'latent' }, { field: 'partner' }, { field: 'value', format: '.3f' }],
        },
      },
      {
        title: 'Rips persistence (distances / median)',
        transform: [{ filter: "datum.panel === 'topology'" }],
        width: 200,
        height: 200,
        mark: { type: 'line', point: true },
        encoding: {
          x: latentAxis,
          y: { field: 'value', type: 'quantitative', title: 'persistence' },
          color: { field: 'measure', type: 'nominal', title: 'statistic' },
          tooltip: [{ field: 'measure' }, { field: 'latent' }, { field: 'value', format: '.3f' }],
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
