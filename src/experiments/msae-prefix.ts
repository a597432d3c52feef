/**
 * Figure `msae-prefix`: Matryoshka BatchTopK SAEs on real activations (MNIST pixels, and the
 * first hidden layer of an MLP trained on MNIST), read prefix by prefix, against the paper's
 * comparison (Bussmann et al. 2025 §5): a standalone BatchTopK SAE trained at each prefix width
 * with k set to the L0 the Matryoshka SAE has at that prefix (matched L0), over several seeds.
 * Also a flat SAE of the full width read by its most frequent latents, the reading a user without
 * a Matryoshka SAE might try (its L0 at a prefix is not matched). Per prefix: explained variance
 * (1 − FVU) on held-out digits, L0 and dead-latent fraction; each SAE's inference threshold θ is
 * recorded. For the first seed, SAEBench's metrics with digits as the classes (docs/methods/msae.md
 * §5.4–§5.6): k-sparse probing accuracy (k = 1, 2, 5), probe-based absorption, and the feature
 * density of every Matryoshka group. The toy hierarchy with known parents is msae-toy.
 */
import type { TopLevelSpec } from 'vega-lite';
import { loadMnist } from '../data/mnist.js';
import type { Matrix } from '../data/matrix.js';
import { createMlp, layerActivations, trainClassifier } from '../models/mlp.js';
import { permuteLatents, type Sae } from '../sae/model.js';
import { halvingPrefixes } from '../sae/config.js';
import { trainSae } from '../sae/train.js';
import { evaluateSae, featureDensity, latentsByFrequency } from '../sae/metrics.js';
import { probeAbsorption, sparseProbing } from '../sae/probing.js';
import { mean, sampleStandardDeviation } from '../math/order.js';
import { defineExperiment } from './define.js';

/** The held-out digits are split again for the SAEBench probes: half train them, half test them. */
const PROBE_TEST_FRACTION = 0.5;

/** Parameters of a run. */
export interface MsaePrefixParams {
  /** MNIST digits used (before the 4:1 train/test split). */
  limit: number;
  /** Hidden widths of the MLP whose first layer is the second data source. */
  mlpHidden: number[];
  mlpEpochs: number;
  /** Dictionary size m of the Matryoshka and flat SAEs (prefixes m/16 ... m). */
  dSae: number;
  /** Mean active latents per digit (BatchTopK) of the Matryoshka and flat SAEs. */
  k: number;
  epochs: number;
  batchSize: number;
  /** SAE seeds (seed, seed + 1, ...); the MLP and the data split use the run's seed. */
  seeds: number;
}

/** The three kinds of SAE compared. */
export type MsaePrefixModel = 'Matryoshka' | 'standalone' | 'flat';

/** A row: one source, model, seed and prefix (for 'standalone', the SAE of that width). */
export type MsaePrefixRow = {
  source: string;
  model: MsaePrefixModel;
  seed: number;
  prefix: number;
  explainedVariance: number;
  fvu: number;
  l0: number;
  deadFraction: number;
  /** The SAE's inference threshold θ. */
  threshold: number;
  /** First seed only (else null): k-sparse probing accuracy, mean over the ten digit tasks, k = 1, 2, 5. */
  probeK1: number | null;
  probeK2: number | null;
  probeK5: number | null;
  /** First seed only: SAEBench's mean absorption fraction and full-absorption rate, mean over digits. */
  absorptionFraction: number | null;
  fullAbsorptionRate: number | null;
};

/** k-sparse probing on the raw input (SAEBench's "LLM" probes): the top-k pixels or units, and all of them. */
export interface InputProbe {
  source: string;
  k1: number;
  k2: number;
  k5: number;
  all: number;
}

/** The feature density of one Matryoshka group of the first seed's Matryoshka SAE. */
export interface GroupDensity {
  source: string;
  /** Latents [start, end). */
  start: number;
  end: number;
  deadFraction: number;
  /** Median log10 firing frequency of the live latents (null if all dead). */
  medianLog10: number | null;
  /** Live latents per log10-frequency bin of `edges`. */
  counts: number[];
  edges: number[];
}

/** Mean and sample standard deviation over seeds. */
export interface Spread {
  mean: number;
  sd: number;
}

/** What the run found at one prefix of one source. */
export interface MsaePrefixComparison {
  prefix: number;
  /** Explained variance of the Matryoshka SAE's prefix. */
  matryoshka: Spread;
  /** Explained variance of the standalone SAE of this width at matched L0. */
  standalone: Spread;
  /** Explained variance of the flat SAE's most frequent latents. */
  flat: Spread;
  /** L0 of the Matryoshka prefix on held-out digits, and of the standalone SAE. */
  matryoshkaL0: Spread;
  standaloneL0: Spread;
  /** standalone − Matryoshka explained variance, mean over seeds, and in how many seeds it is > 0. */
  standaloneAdvantage: number;
  standaloneWinsSeeds: number;
}

/** What the run found, per source. */
export interface MsaePrefixFinding {
  source: string;
  comparisons: MsaePrefixComparison[];
}

/** What the run found. */
export interface MsaePrefixMeta {
  trainRows: number;
  testRows: number;
  prefixes: number[];
  mlp: string;
  seeds: number[];
  flatOrder: string;
  matching: string;
  findings: MsaePrefixFinding[];
  inputProbes: InputProbe[];
  groupDensity: GroupDensity[];
}

/** Mean and sample standard deviation (0 for one value). */
/** Mean and sample standard deviation over seeds (sd 0 for one seed). */
export function spread(values: number[]): Spread {
  return { mean: mean(values), sd: values.length > 1 ? sampleStandardDeviation(values) : 0 };
}

export const msaePrefix = defineExperiment<MsaePrefixParams, MsaePrefixRow, MsaePrefixMeta>({
  id: 'msae-prefix',
  title: 'Matryoshka SAE prefixes vs standalone SAEs at matched L0 on MNIST pixels and MLP activations',
  sizes: {
    smoke: { limit: 1500, mlpHidden: [64], mlpEpochs: 2, dSae: 64, k: 8, epochs: 4, batchSize: 256, seeds: 2 },
    full: { limit: 10000, mlpHidden: [256, 128], mlpEpochs: 6, dSae: 512, k: 16, epochs: 60, batchSize: 512, seeds: 3 },
  },
  async run({ params: cfg, seed, progress }) {
    const { train, test } = loadMnist({ seed, limit: cfg.limit });
    const prefixes = halvingPrefixes(cfg.dSae);
    const seeds = Array.from({ length: cfg.seeds }, (_, i) => seed + i);
    const sourceCount = 2;
    const perSeed = 2 + prefixes.length - 1; // Matryoshka, flat, a standalone SAE per inner prefix
    progress.start(1 + sourceCount * seeds.length * perSeed, 'msae-prefix');
    const mlp = createMlp({ inputDim: 784, hidden: [...cfg.mlpHidden], outputDim: 10, seed });
    await trainClassifier(mlp, train.x, train.y, { epochs: cfg.mlpEpochs, seed });
    const sources: Record<string, [Matrix, Matrix]> = {
      'MNIST pixels': [train.x, test.x],
      'MLP hidden layer 1': [(await layerActivations(mlp, train.x))[0], (await layerActivations(mlp, test.x))[0]],
    };
    mlp.dispose();
    let done = 0;
    progress.update(++done, 'trained the MLP');
    const rows: MsaePrefixRow[] = [];
    const train1 = async (x: Matrix, dSae: number, k: number, prefixList: number[], s: number): Promise<Sae> =>
      (
        await trainSae(x, {
          architecture: { dIn: x.cols, dSae, activation: 'batchtopk', k, prefixes: prefixList },
          training: { batchSize: cfg.batchSize, epochs: cfg.epochs, warmupSteps: 50, deadTokens: 20 * x.rows, seed: s },
        })
      ).sae;
    const labels = test.y;
    const record = async (source: string, model: MsaePrefixModel, s: number, sae: Sae, xTest: Matrix, at: number[]) => {
      const first = s === seeds[0];
      const probes = first ? await sparseProbing(sae, xTest, labels, { prefixes: at, k: [1, 2, 5], baseline: false, seed, testFraction: PROBE_TEST_FRACTION }) : [];
      const absorbed = first ? await probeAbsorption(sae, xTest, labels, { prefixes: at, seed, testFraction: PROBE_TEST_FRACTION }) : [];
      const probe = (p: number, k: number) => (first ? probes.find((r) => r.prefix === p && r.k === k && r.label === 'mean')!.accuracy : null);
      const absorption = (p: number) => (first ? absorbed.find((r) => r.prefix === p && r.label === 'mean')! : null);
      for (const m of await evaluateSae(sae, xTest, { prefixes: at })) {
        rows.push({
          source, model, seed: s, prefix: m.prefix, explainedVariance: m.explainedVariance, fvu: m.fvu, l0: m.l0, deadFraction: m.deadFraction,
          threshold: sae.threshold?.[0] ?? -1, probeK1: probe(m.prefix, 1), probeK2: probe(m.prefix, 2), probeK5: probe(m.prefix, 5),
          absorptionFraction: absorption(m.prefix)?.meanAbsorptionFraction ?? null, fullAbsorptionRate: absorption(m.prefix)?.fullAbsorptionRate ?? null,
        });
      }
    };
    const inputProbes: InputProbe[] = [];
    const groupDensity: GroupDensity[] = [];
    for (const [source, [xTrain, xTest]] of Object.entries(sources)) {
      for (const s of seeds) {
        const matryoshka = await train1(xTrain, cfg.dSae, cfg.k, prefixes, s);
        await record(source, 'Matryoshka', s, matryoshka, xTest, prefixes);
        if (s === seeds[0]) {
          const density = await featureDensity(matryoshka, xTest);
          for (const g of density.byGroup) groupDensity.push({ source, start: g.start, end: g.end, deadFraction: g.deadFraction, medianLog10: g.medianLog10, counts: g.counts, edges: density.edges });
          const base = (await sparseProbing(matryoshka, xTest, labels, { prefixes: [cfg.dSae], k: [1, 2, 5], seed, testFraction: PROBE_TEST_FRACTION })).filter((r) => r.source === 'input' && r.label === 'mean');
          const at = (k: number) => base.find((r) => r.k === k)!.accuracy;
          inputProbes.push({ source, k1: at(1), k2: at(2), k5: at(5), all: at(xTest.cols) });
        }
        progress.update(++done, `${source}, seed ${s}: Matryoshka`);
        // Matched L0: each standalone SAE gets the L0 the Matryoshka prefix has on the training rows.
        const trainL0 = await evaluateSae(matryoshka, xTrain, { prefixes });
        for (const m of trainL0.slice(0, -1)) {
          const standalone = await train1(xTrain, m.prefix, Math.max(m.l0, 1 / cfg.batchSize), [m.prefix], s);
          await record(source, 'standalone', s, standalone, xTest, [m.prefix]);
          progress.update(++done, `${source}, seed ${s}: standalone ${m.prefix} at L0 ${m.l0.toFixed(2)}`);
        }
        const flat = await train1(xTrain, cfg.dSae, cfg.k, [cfg.dSae], s);
        // the full-width standalone SAE at L0 k is the flat SAE itself
        await record(source, 'standalone', s, flat, xTest, [cfg.dSae]);
        await record(source, 'flat', s, permuteLatents(flat, await latentsByFrequency(flat, xTrain)), xTest, prefixes);
        progress.update(++done, `${source}, seed ${s}: flat`);
      }
    }
    progress.stop();
    const pick = (source: string, model: MsaePrefixModel, p: number, field: 'explainedVariance' | 'l0') =>
      seeds.map((s) => rows.find((r) => r.source === source && r.model === model && r.seed === s && r.prefix === p)![field]);
    const findings = Object.keys(sources).map((source) => ({
      source,
      comparisons: prefixes.map((p) => {
        const mat = pick(source, 'Matryoshka', p, 'explainedVariance');
        const sta = pick(source, 'standalone', p, 'explainedVariance');
        const diff = sta.map((v, i) => v - mat[i]);
        return {
          prefix: p,
          matryoshka: spread(mat),
          standalone: spread(sta),
          flat: spread(pick(source, 'flat', p, 'explainedVariance')),
          matryoshkaL0: spread(pick(source, 'Matryoshka', p, 'l0')),
          standaloneL0: spread(pick(source, 'standalone', p, 'l0')),
          standaloneAdvantage: spread(diff).mean,
          standaloneWinsSeeds: diff.filter((v) => v > 0).length,
        };
      }),
    }));
    return {
      rows,
      meta: {
        trainRows: train.x.rows,
        testRows: test.x.rows,
        prefixes,
        mlp: `784-${cfg.mlpHidden.join('-')}-10, ${cfg.mlpEpochs} epochs`,
        seeds,
        flatOrder: 'latents ranked by firing frequency on the training rows',
        matching: "standalone SAE of width p trained with k = the Matryoshka SAE's L0 at prefix p on the training rows (the full width: the flat SAE)",
        findings,
        inputProbes,
        groupDensity,
      },
    };
  },
  spec: (rows, meta) => msaePrefixSpec(rows, meta.prefixes),
});

/** A line of the mean over seeds per x with ± 1 sd error bars, for `field` (vega-lite layers). */
export function meanSdLayers(x: object, color: object, field: string, title: string, extra: object = {}): object[] {
  return [
    { mark: { type: 'line', point: true }, encoding: { x, y: { aggregate: 'mean', field, type: 'quantitative', title, ...extra }, color } },
    { mark: { type: 'errorbar', extent: 'stdev' }, encoding: { x, y: { field, type: 'quantitative', title, ...extra }, color } },
  ];
}

/** Explained variance, L0 and dead fraction per prefix: mean over seeds (line) and ± 1 sd (bars). */
export function msaePrefixSpec(rows: MsaePrefixRow[], prefixes: number[]): TopLevelSpec {
  const x = { field: 'prefix', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: prefixes }, title: 'prefix size (latents)' };
  const color = {
    field: 'model', type: 'nominal', title: null,
    scale: { domain: ['Matryoshka', 'standalone', 'flat'], range: ['#e45756', '#54a24b', '#4c78a8'] },
    legend: { labelLimit: 240, labelExpr: "datum.label === 'standalone' ? 'standalone at matched L0' : datum.label === 'flat' ? 'flat, by frequency' : datum.label" },
  };
  const panel = (field: string, title: string, extra: object = {}) => ({
    transform: [{ filter: `isValid(datum.${field})` }], // the SAEBench columns are measured on the first seed only
    facet: { column: { field: 'source', type: 'nominal', title: null, sort: ['MNIST pixels', 'MLP hidden layer 1'] } },
    spec: {
      layer: meanSdLayers(x, color, field, title, extra),
      width: 230,
      height: 150,
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Matryoshka SAE prefixes vs standalone SAEs at matched L0 (held-out MNIST digits)',
      subtitle: 'BatchTopK, θ inference; mean ± 1 sd over seeds (probing and absorption: first seed)',
    },
    data: { values: rows },
    vconcat: [
      panel('explainedVariance', 'explained variance (1 − FVU)'),
      panel('l0', 'L0 (active latents)', { scale: { type: 'log' } }),
      panel('deadFraction', 'dead latents (fraction)', { scale: { domain: [0, 1] } }),
      panel('probeK1', '1-sparse probe accuracy (digits)'),
      panel('absorptionFraction', 'absorption fraction (SAEBench)', { scale: { domain: [0, 1] } }),
    ],
  } as unknown as TopLevelSpec;
}
