/**
 * Figure `mrl-retrieval` (MRL's Figs. 7-8 at MNIST scale). Database = the training digits'
 * embeddings, queries = the test digits'. Top: mAP@10 vs size m for MRL's first m dims, FF-m (a
 * separately trained model with an m-dim embedding: the paper's baseline), the first m units of
 * FF-d and PCA of FF-d, with a zoom on the sizes where they are close. Bottom: adaptive retrieval,
 * accuracy vs cost: single-shot MRL search at each size vs funnels that shortlist 200 candidates
 * with a small MRL prefix and re-rank them with all d dimensions. Every model is trained from
 * each of the preset's seeds; the figure draws the mean and ± 1 sd over the seeds.
 */
import type { TopLevelSpec } from 'vega-lite';
import { prefixColumns, type Matrix } from '../data/matrix.js';
import { disposeMrl, mrlEmbed } from '../models/mrl.js';
import { funnelRetrieval, retrieveNearest, retrievalMetrics } from '../models/retrieval.js';
import {
  MRL_FIGURE_SIZES,
  MRL_METHOD_COLORS,
  dodgeSizes,
  ffBaselines,
  mrlData,
  pairedGap,
  signedPoints,
  spreadBy,
  trainNested,
  zoomDomain,
  zoomSizes,
  type MrlModelSize,
} from './mrl-common.js';
import { defineExperiment } from './define.js';
import { spread, type Spread } from './msae-prefix.js';

const K = 10;
const SHORTLIST = 200;

/** The single-shot methods, in the legend's order. */
export const MRL_RETRIEVAL_METHODS = ['MRL', 'FF-m', 'FF (first m units)', 'PCA of FF'] as const;

/**
 * A row: one seed's retrieval, kind 'size' (single-shot search with a method's m dims) or
 * 'funnel' (shortlist with MRL's first `size` dims, re-rank with all d); `cost` in multiply-adds per query.
 */
export type MrlRetrievalRow = { kind: 'size' | 'funnel'; method: string; size: number; seed: number; mapAt10: number; oneNn: number; cost: number };

/** What the run found. */
export interface MrlRetrievalMeta {
  databaseRows: number;
  queryRows: number;
  k: number;
  shortlist: number;
  encoder: string;
  /** The seeds actually used (base seed + the preset's offsets). */
  seeds: number[];
  /** Single-shot mAP@10 per method and size, mean and sample sd over seeds: mapAt10[method][size]. */
  mapAt10: Record<string, Record<number, Spread>>;
  /** Single-shot 1-NN accuracy, the same way. */
  oneNn: Record<string, Record<number, Spread>>;
  /** mAP@10 of single-shot MRL search with all d dims. */
  fullSizeMapAt10: Spread;
  /** MRL − FF-m mAP@10 per size: the same-seed differences' mean and sd. */
  mrlMinusFf: { size: number; gap: Spread }[];
  /** Each funnel's mAP@10 and how much less compute it needs than full-size search. */
  funnels: { method: string; size: number; mapAt10: Spread; costRatio: number }[];
  /** MRL vs FF-m, and the funnels vs full-size search, in words with the numbers. */
  verdict: string[];
}

export const mrlRetrieval = defineExperiment<MrlModelSize, MrlRetrievalRow, MrlRetrievalMeta>({
  id: 'mrl-retrieval',
  title: `Matryoshka representations: retrieval (mAP@${K}, 1-NN) vs size for MRL and FF-m, and shortlist-and-re-rank funnels (d = full size)`,
  sizes: MRL_FIGURE_SIZES,
  async run({ params: size, seed: baseSeed, progress }) {
    const { train, test } = mrlData(size);
    const d = size.embeddingDim;
    const shortlist = Math.min(SHORTLIST, train.x.rows);
    const seeds = size.seeds.map((s) => baseSeed + s);
    const rows: MrlRetrievalRow[] = [];
    const embed = async (kind: { efficient: boolean; embeddingDim: number; nesting: number[] }, seed: number): Promise<[Matrix, Matrix]> => {
      const model = await trainNested(train, size, kind, seed);
      const z: [Matrix, Matrix] = [await mrlEmbed(model, train.x), await mrlEmbed(model, test.x)];
      disposeMrl(model);
      return z;
    };
    const search = async (kind: 'size' | 'funnel', method: string, m: number, seed: number, db: Matrix, q: Matrix) => {
      const r = retrievalMetrics(await retrieveNearest(db, q, K), K, train.y, test.y);
      rows.push({ kind, method, size: m, seed, mapAt10: r.mapAtK, oneNn: r.oneNnAccuracy, cost: m * train.x.rows });
    };
    progress.start(seeds.length * (2 + size.nesting.length), 'steps');
    let done = 0;
    for (const seed of seeds) {
      const mrl = await embed({ efficient: false, embeddingDim: d, nesting: size.nesting }, seed);
      for (const m of size.nesting) await search('size', 'MRL', m, seed, prefixColumns(mrl[0], m), prefixColumns(mrl[1], m));
      progress.update(++done, `MRL seed ${seed}`);
      for (const m of size.nesting) {
        const ff = await embed({ efficient: false, embeddingDim: m, nesting: [m] }, seed);
        await search('size', 'FF-m', m, seed, ff[0], ff[1]);
        if (m === d) {
          // The first-units and PCA baselines live on the largest FF model's (FF-d's) embedding.
          const base = await ffBaselines(ff[0], ff[1], size.nesting, seed);
          for (const k of size.nesting) {
            await search('size', 'FF (first m units)', k, seed, prefixColumns(ff[0], k), prefixColumns(ff[1], k));
            await search('size', 'PCA of FF', k, seed, ...base.pca(k));
          }
        }
        progress.update(++done, `FF-${m} seed ${seed}`);
      }
      for (const ms of size.nesting.filter((m) => m < d)) {
        const f = await funnelRetrieval(mrl[0], mrl[1], [{ dims: ms, keep: shortlist }, { dims: d, keep: K }]);
        const r = retrievalMetrics(f.neighbors, K, train.y, test.y);
        rows.push({ kind: 'funnel', method: `MRL funnel ${ms}→${d}`, size: ms, seed, mapAt10: r.mapAtK, oneNn: r.oneNnAccuracy, cost: f.costPerQuery });
      }
      progress.update(++done, `funnels seed ${seed}`);
    }
    progress.stop();
    const single = rows.filter((r) => r.kind === 'size');
    const mapAt10 = spreadBy(single, (r) => r.mapAt10);
    const mrlMinusFf = size.nesting.map((m) => ({ size: m, gap: pairedGap(single, 'MRL', 'FF-m', m, (r) => r.mapAt10) }));
    const funnels = size.nesting
      .filter((m) => m < d)
      .map((ms) => {
        const fr = rows.filter((r) => r.kind === 'funnel' && r.size === ms);
        return { method: fr[0].method, size: ms, mapAt10: spread(fr.map((r) => r.mapAt10)), costRatio: (d * train.x.rows) / fr[0].cost };
      });
    return {
      rows,
      meta: {
        databaseRows: train.x.rows,
        queryRows: test.x.rows,
        k: K,
        shortlist,
        encoder: `784-${size.hidden.join('-')}-${d}`,
        seeds,
        mapAt10,
        oneNn: spreadBy(single, (r) => r.oneNn),
        fullSizeMapAt10: mapAt10.MRL[d],
        mrlMinusFf,
        funnels,
        verdict: retrievalVerdict(mapAt10, mrlMinusFf, funnels, d),
      },
    };
  },
  spec: (rows, meta) => mrlRetrievalSpec(rows, meta.params.embeddingDim, meta.seeds.length),
});

const mapText = (s: Spread) => `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;

/**
 * The paper's retrieval findings checked on the means, in words with the numbers: MRL vs FF-m
 * mAP@10 per size (paper: MRL up to 3 % above FF), and each funnel vs single-shot search with all
 * d dims (paper: a 16-dim shortlist re-ranked at full size matches it at far less compute).
 */
export function retrievalVerdict(
  mapAt10: Record<string, Record<number, Spread>>,
  gaps: { size: number; gap: Spread }[],
  funnels: { method: string; size: number; mapAt10: Spread; costRatio: number }[],
  d: number,
): string[] {
  if (!mapAt10.MRL || !mapAt10['FF-m']) return ['no MRL/FF-m results to compare'];
  const above = gaps.filter((g) => g.gap.mean > 0).map((g) => g.size);
  const lines = [
    `mAP@${K}, MRL vs FF-m per size (mean ± sd over seeds; gap = same-seed MRL − FF-m): ${gaps.map((g) => `m=${g.size}: ${mapText(mapAt10.MRL[g.size])} vs ${mapText(mapAt10['FF-m'][g.size])} (${signedPoints(g.gap.mean)} ± ${(100 * g.gap.sd).toFixed(2)})`).join('; ')}.`,
    `MRL retrieves better than FF-m at ${above.length} of ${gaps.length} sizes${above.length > 0 ? ` (m = ${above.join(', ')})` : ''}.`,
  ];
  const full = mapAt10.MRL[d];
  for (const f of funnels) {
    const gap = f.mapAt10.mean - full.mean;
    lines.push(`${f.method}: mAP@${K} ${mapText(f.mapAt10)} vs single-shot ${d} dims ${mapText(full)} (${signedPoints(gap)}) at ${f.costRatio.toFixed(1)}x less compute.`);
  }
  return lines;
}

/**
 * Four panels. Top: mAP@10 vs m per method (y from the data) and a zoom on the sizes where the
 * methods are within 5 points. Bottom: mAP@10 vs cost, single-shot MRL (line, on top) and funnels
 * (hollow diamonds, one color per shortlist size, numerically sorted), and a zoom on the funnels.
 */
export function mrlRetrievalSpec(rows: MrlRetrievalRow[], d: number, seedCount: number): TopLevelSpec {
  const single = rows.filter((r) => r.kind === 'size');
  const cells = spreadBy(single, (r) => r.mapAt10);
  const sizes = [...new Set(single.map((r) => r.size))].sort((a, b) => a - b);
  const zoom = zoomSizes(cells);
  const zoomY = zoomDomain(Object.values(cells).flatMap((bySize) => zoom.filter((m) => bySize[m]).map((m) => bySize[m])));
  const funnelCells = Object.values(spreadBy(rows.filter((r) => r.kind === 'funnel'), (r) => r.mapAt10)).flatMap((bySize) => Object.values(bySize));
  const lowestFunnel = Math.min(...funnelCells.map((c) => c.mean - c.sd));
  const adaptiveY = zoomDomain([...funnelCells, ...Object.values(cells.MRL ?? {}).filter((c) => c.mean >= lowestFunnel)]);
  const methods = MRL_RETRIEVAL_METHODS.filter((m) => cells[m]);
  const y = { field: 'mapAt10', type: 'quantitative', title: `mAP@${K}` };
  const methodColor = { field: 'method', type: 'nominal', title: null, scale: { domain: methods, range: methods.map((m) => MRL_METHOD_COLORS[m]) }, legend: { labelLimit: 0 } };
  const bySize = (values: number[], domain?: [number, number]) => ({
    encoding: { x: { field: 'sizeDodged', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values }, title: 'dims used m' }, color: methodColor },
    layer: [
      { mark: { type: 'errorbar', extent: 'stdev', thickness: 1.5, clip: true }, encoding: { y: { ...y, scale: domain ? { domain, zero: false } : { zero: false } } } },
      { mark: { type: 'line', point: { size: 30 }, clip: true }, encoding: { y: { ...y, aggregate: 'mean' } } },
    ],
    width: 300,
    height: 220,
  });
  const adaptive = (domain?: [number, number]) => {
    const yScale = { ...y, scale: domain ? { domain, zero: false } : { zero: false } };
    const x = { field: 'cost', type: 'quantitative', scale: { type: 'log' }, title: 'multiply-adds per query' };
    const funnelColor = {
      field: 'size',
      type: 'ordinal',
      sort: 'ascending',
      title: `funnel: shortlist ${SHORTLIST} with m dims, re-rank with ${d}`,
      scale: { scheme: 'dark2' },
      legend: { labelLimit: 0, titleLimit: 0, symbolType: 'diamond', labelExpr: `'m = ' + datum.label + ' → ${d}'`, direction: 'horizontal' },
    };
    const funnels = { filter: "datum.kind === 'funnel'" };
    const shot = { filter: "datum.kind === 'size' && datum.method === 'MRL'" };
    return {
      encoding: { x },
      layer: [
        { transform: [funnels], mark: { type: 'errorbar', extent: 'stdev', thickness: 1.5, clip: true }, encoding: { y: yScale, color: funnelColor } },
        { transform: [funnels], mark: { type: 'point', shape: 'diamond', size: 70, filled: false, strokeWidth: 2, clip: true }, encoding: { y: { ...y, aggregate: 'mean' }, color: funnelColor } },
        // single-shot MRL with its first m dims: drawn after the funnels, so their markers never cover it
        { transform: [shot], mark: { type: 'errorbar', extent: 'stdev', thickness: 1.5, color: '#333', clip: true }, encoding: { y: yScale } },
        { transform: [shot], mark: { type: 'line', color: '#333', strokeWidth: 1.5, point: { size: 16, color: '#333' }, clip: true }, encoding: { y: { ...y, aggregate: 'mean' } } },
        {
          transform: [shot, { aggregate: [{ op: 'mean', field: 'mapAt10', as: 'mapAt10' }], groupby: ['size', 'cost'] }],
          mark: { type: 'text', align: 'left', dx: 4, dy: 10, fontSize: 10, color: '#333', clip: true },
          encoding: { y, text: { field: 'size', type: 'ordinal' } },
        },
      ],
      width: 300,
      height: 220,
    };
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'MNIST retrieval with nested embeddings',
      subtitle: [
        `database = train digits, queries = test digits; cosine kNN; mAP@${K} as MRL computes it; FF-m: a model trained with an m-dim embedding`,
        `bottom: black line = single-shot MRL search with its first m dims (labeled m), diamonds = funnels`,
        `lines and points: mean over ${seedCount} seeds; bars: ± 1 sd over the ${seedCount} seeds`,
      ],
    },
    data: { values: rows },
    vconcat: [
      {
        transform: [{ filter: "datum.kind === 'size'" }, dodgeSizes(methods)],
        hconcat: [
          { title: `mAP@${K} vs size`, ...bySize(sizes) },
          { title: `zoom: m ≥ ${zoom[0]}`, transform: [{ filter: `datum.size >= ${zoom[0]}` }], ...bySize(zoom, zoomY) },
        ],
      },
      {
        hconcat: [
          { title: 'Adaptive retrieval: accuracy vs cost', ...adaptive() },
          { title: 'zoom on the funnels', ...adaptive(adaptiveY) },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: { legend: { orient: 'bottom' } },
  } as TopLevelSpec;
}
