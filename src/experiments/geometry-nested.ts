/**
 * Figure `geometry-nested`: representation geometry across nested sizes, for the
 * prefixes of an MRL embedding trained on MNIST (and, where registered, the prefix codes of a
 * Matryoshka SAE): prefix x prefix matrices of linear CKA, RSA and tRSA; persistent-homology
 * summaries vs prefix size; UMAP panels of the test digits at several prefix sizes by label.
 */
import type { TopLevelSpec } from 'vega-lite';
import { prefixColumns } from '../data/matrix.js';
import { disposeMrl, mrlEmbed } from '../models/mrl.js';
import { encodeSae } from '../sae/model.js';
import { trainSae } from '../sae/train.js';
import { halvingPrefixes } from '../sae/config.js';
import { MRL_SIZES, mrlData, trainNested, type MrlRunSize } from './mrl-common.js';
import { nestedGeometryRows, TRSA_LU, type NestedFamily, type NestedGeometryRow } from './nested-geometry.js';
import { defineExperiment } from './define.js';

/** Parameters of a run. */
export interface GeometryNestedParams {
  /** The MRL model's run (the mrl figures' preset of the same size). */
  mrl: MrlRunSize;
  /** Test digits embedded (UMAP uses all of them). */
  stimuli: number;
  /** Stimuli for RSA/tRSA/topology (a seeded subset). */
  rsaStimuli: number;
  /** Points kept for persistence (max-min landmarks). */
  topologyPoints: number;
  /** MRL prefix sizes that get a UMAP panel. */
  umapSizes: number[];
  /** The Matryoshka SAE on the pixels. */
  sae: { dSae: number; k: number; epochs: number };
  /** SAE prefix sizes that get a UMAP panel. */
  saeUmapSizes: number[];
}

/** What the run found. */
export interface GeometryNestedMeta {
  families: string[];
  prefixSizes: Record<string, number[]>;
  umapStimuli: number;
  trsa: string;
  /** Per family, CKA / RSA / tRSA between its smallest and its largest prefix. */
  smallestVsLargest: { family: string; prefixes: number[]; cka: number; rsa: number; trsa: number }[];
  /** The Matryoshka SAE's inference threshold θ (BatchTopK, estimated in training) and its L0 on the stimuli. */
  sae: { threshold: number; l0: number };
}

async function mrlFamily(cfg: MrlRunSize, seed: number, stimuli: number): Promise<{ fam: NestedFamily; labels: Int32Array }> {
  const { train, test } = mrlData(cfg);
  const model = await trainNested(train, cfg, { efficient: false, embeddingDim: cfg.embeddingDim, nesting: cfg.nesting }, seed);
  const n = Math.min(stimuli, test.x.rows);
  const x = { data: test.x.data.subarray(0, n * test.x.cols), rows: n, cols: test.x.cols };
  const z = await mrlEmbed(model, x);
  disposeMrl(model);
  return {
    fam: { family: 'MRL embedding', prefixes: cfg.nesting.map((m) => ({ size: m, x: prefixColumns(z, m) })) },
    labels: test.y.subarray(0, n),
  };
}

/**
 * The prefix codes of a Matryoshka BatchTopK SAE trained on MNIST pixels (the msae-prefix
 * setting): code[:, :p] of the test digits for p = m/16 ... m.
 */
async function saeFamily(params: GeometryNestedParams, seed: number): Promise<{ fam: NestedFamily; threshold: number; l0: number }> {
  const cfg = params.sae;
  // The MRL family's split, so both families describe the same test digits in the same order.
  const { train, test } = mrlData(params.mrl);
  const prefixes = halvingPrefixes(cfg.dSae);
  const { sae } = await trainSae(train.x, {
    architecture: { dIn: 784, dSae: cfg.dSae, activation: 'batchtopk', k: cfg.k, prefixes },
    training: { batchSize: 512, epochs: cfg.epochs, warmupSteps: 50, deadTokens: 20 * train.x.rows, seed },
  });
  const n = Math.min(params.stimuli, test.x.rows);
  const code = await encodeSae(sae, { data: test.x.data.subarray(0, n * 784), rows: n, cols: 784 }, { dense: true });
  let active = 0;
  for (const v of code.data) if (v > 0) active++;
  return {
    fam: { family: 'Matryoshka SAE code', prefixes: prefixes.map((p) => ({ size: p, x: prefixColumns(code, p) })) },
    threshold: sae.threshold?.[0] ?? -1,
    l0: active / n,
  };
}

export const geometryNested = defineExperiment<GeometryNestedParams, NestedGeometryRow, GeometryNestedMeta>({
  id: 'geometry-nested',
  title: 'Representation geometry across nested sizes: CKA, RSA, tRSA, topology and UMAP per prefix',
  sizes: {
    smoke: { mrl: MRL_SIZES.smoke, stimuli: 300, rsaStimuli: 120, topologyPoints: 100, umapSizes: [2, 16], sae: { dSae: 64, k: 8, epochs: 3 }, saeUmapSizes: [4, 64] },
    full: { mrl: MRL_SIZES.full, stimuli: 1500, rsaStimuli: 500, topologyPoints: 300, umapSizes: [2, 8, 64], sae: { dSae: 512, k: 16, epochs: 60 }, saeUmapSizes: [32, 128, 512] },
  },
  async run({ params, seed, progress }) {
    progress.start(4, 'geometry-nested');
    const { fam, labels } = await mrlFamily(params.mrl, seed, params.stimuli);
    progress.update(1, 'trained the MRL model');
    const common = { labels, rsaStimuli: params.rsaStimuli, topologyPoints: params.topologyPoints, nullDraws: 3, seed };
    const rows = await nestedGeometryRows(fam, { ...common, umapSizes: params.umapSizes });
    progress.update(2, 'MRL geometry measured');
    // Same test digits, same order: the labels apply to both families.
    const { fam: saeFam, threshold, l0 } = await saeFamily(params, seed);
    progress.update(3, 'trained the Matryoshka SAE');
    rows.push(...(await nestedGeometryRows(saeFam, { ...common, umapSizes: params.saeUmapSizes })));
    progress.update(4, 'SAE geometry measured');
    progress.stop();
    const smallestVsLargest = [fam, saeFam].map((f) => {
      const at = (panel: string, a: number, b: number) => rows.find((r) => r.family === f.family && r.panel === panel && r.sizeA === a && r.sizeB === b)!.value!;
      const sizes = f.prefixes.map((p) => p.size);
      const [smallest, largest] = [sizes[0], sizes[sizes.length - 1]];
      return { family: f.family, prefixes: [smallest, largest], cka: at('cka', smallest, largest), rsa: at('rsa', smallest, largest), trsa: at('trsa', smallest, largest) };
    });
    return {
      rows,
      meta: {
        families: [fam.family, saeFam.family],
        prefixSizes: { [fam.family]: fam.prefixes.map((p) => p.size), [saeFam.family]: saeFam.prefixes.map((p) => p.size) },
        umapStimuli: labels.length,
        trsa: `Pearson r of GT(l=${TRSA_LU.l}, u=${TRSA_LU.u}) of Euclidean RDMs (rank quantiles)`,
        smallestVsLargest,
        sae: { threshold, l0 },
      },
    };
  },
  spec: (rows) => geometryNestedSpec(rows),
});

function heatmap(panel: string, title: string): object {
  return {
    title,
    transform: [{ filter: `datum.panel === '${panel}'` }],
    mark: 'rect',
    encoding: {
      x: { field: 'sizeA', type: 'ordinal', title: 'prefix size', sort: 'ascending' },
      y: { field: 'sizeB', type: 'ordinal', title: 'prefix size', sort: 'descending' },
      color: { field: 'value', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] }, title: null },
      row: { field: 'family', type: 'nominal', title: null },
    },
    width: 150,
    height: 150,
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
}

export function geometryNestedSpec(rows: NestedGeometryRow[]): TopLevelSpec {
  // Facet order: family by family, prefix sizes ascending (a plain string sort puts 64 before 8).
  const umapPanels = [...new Map(rows.filter((r) => r.panel === 'umap').map((r) => [`${r.family}, prefix ${r.size}`, r] as const)).keys()];
  // One y range for both degrees, from the data and the reference 1, rounded out to 0.1.
  const ratios = rows.filter((r) => r.measure === 'totalPersistenceVsGaussian').map((r) => r.value as number);
  const ratioDomain = [Math.floor(Math.min(1, ...ratios) * 10) / 10, Math.ceil(Math.max(1, ...ratios) * 10) / 10];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Representation geometry across nested sizes (MNIST test digits)', subtitle: 'CKA, RSA (Spearman of RDMs) and tRSA (topology-sensitive GT) between prefixes; topology per prefix; UMAP by digit' },
    data: { values: rows },
    vconcat: [
      { hconcat: [heatmap('cka', 'linear CKA'), heatmap('rsa', 'RSA'), heatmap('trsa', 'tRSA')], resolve: { scale: { color: 'shared' } } },
      {
        title: {
          text: 'Persistent homology per prefix, relative to a Gaussian cloud of the same covariance',
          subtitle: 'total persistence / its mean over 3 Gaussian clouds with the prefix\'s covariance (1 = no structure beyond a Gaussian; the ratio cancels the growth that comes from the dimension alone)',
        },
        transform: [{ filter: "datum.panel === 'topology' && datum.measure === 'totalPersistenceVsGaussian'" }],
        facet: { column: { field: 'dim', type: 'nominal', title: null } },
        spec: {
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [...new Set(rows.filter((r) => r.panel === 'topology').map((r) => r.size as number))], labelOverlap: false, labelFontSize: 9 }, title: 'prefix size' },
                y: { field: 'value', type: 'quantitative', title: 'total persistence / Gaussian', scale: { domain: ratioDomain } },
                color: { field: 'dim', type: 'nominal', title: null },
                strokeDash: { field: 'family', type: 'nominal', title: null, legend: { labelLimit: 0 } },
              },
            },
            { mark: { type: 'rule', color: 'gray', strokeDash: [2, 2] }, encoding: { y: { datum: 1 } } },
          ],
          width: 300,
          height: 160,
        },
      },
      {
        title: 'UMAP of the prefixes, colored by digit',
        transform: [{ filter: "datum.panel === 'umap'" }, { calculate: "datum.family + ', prefix ' + datum.size", as: 'umapPanel' }],
        mark: { type: 'circle', size: 8, opacity: 0.7 },
        encoding: {
          x: { field: 'x', type: 'quantitative', axis: null },
          y: { field: 'y', type: 'quantitative', axis: null },
          color: { field: 'label', type: 'nominal', title: 'digit' },
          facet: { field: 'umapPanel', type: 'nominal', title: null, columns: 3, sort: umapPanels },
        },
        width: 170,
        height: 170,
        resolve: { scale: { x: 'independent', y: 'independent' } },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}
