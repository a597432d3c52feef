/**
 * Figure `mrl-retrieval` (MRL's Figs. 7-8 at MNIST scale). Database = the training
 * digits' embeddings, queries = the test digits'. Left: mAP@10 and 1-NN accuracy vs prefix size
 * for MRL, the first m units of FF-d, and PCA of FF-d. Right: adaptive retrieval, accuracy vs
 * cost: single-shot search at each size vs funnels that shortlist 200 candidates with a small
 * MRL prefix and re-rank them with all d dimensions.
 */
import type { TopLevelSpec } from 'vega-lite';
import { prefixColumns, type Matrix } from '../data/matrix.js';
import { disposeMrl, mrlEmbed } from '../models/mrl.js';
import { funnelRetrieval, retrieveNearest, retrievalMetrics } from '../models/retrieval.js';
import { MRL_SIZES, ffBaselines, mrlData, trainNested, type MrlRunSize } from './mrl-common.js';
import { defineExperiment } from './define.js';

const K = 10;
const SHORTLIST = 200;

/** A row: kind 'size' (single-shot search with the first `size` dims) or 'funnel'. */
export type MrlRetrievalRow = { kind: 'size' | 'funnel'; method: string; size: number; mapAt10: number; oneNn: number; cost: number };

/** What the run found. */
export interface MrlRetrievalMeta {
  databaseRows: number;
  queryRows: number;
  k: number;
  shortlist: number;
  encoder: string;
  /** mAP@10 of single-shot MRL search with all d dims. */
  fullSizeMapAt10: number;
  /** Each funnel's mAP@10 and how much less compute it needs than full-size search. */
  funnels: { method: string; mapAt10: number; costRatio: number }[];
}

export const mrlRetrieval = defineExperiment<MrlRunSize, MrlRetrievalRow, MrlRetrievalMeta>({
  id: 'mrl-retrieval',
  title: `Matryoshka representations: retrieval (mAP@${K}, 1-NN) vs size, and shortlist-and-re-rank funnels (d = full size)`,
  sizes: MRL_SIZES,
  async run({ params: size, seed, progress }) {
    const { train, test } = mrlData(size);
    const d = size.embeddingDim;
    const shortlist = Math.min(SHORTLIST, train.x.rows);
    progress.start(3, 'steps');
    const mrl = await trainNested(train, size, { efficient: false, embeddingDim: d, nesting: size.nesting }, seed);
    const ff = await trainNested(train, size, { efficient: false, embeddingDim: d, nesting: [d] }, seed);
    progress.update(1, 'trained MRL and FF');
    const emb: Record<string, [Matrix, Matrix]> = {
      MRL: [await mrlEmbed(mrl, train.x), await mrlEmbed(mrl, test.x)],
      'FF (first m units)': [await mrlEmbed(ff, train.x), await mrlEmbed(ff, test.x)],
    };
    disposeMrl(mrl);
    disposeMrl(ff);
    const base = await ffBaselines(emb['FF (first m units)'][0], emb['FF (first m units)'][1], size.nesting, seed);
    const rows: MrlRetrievalRow[] = [];
    for (const m of size.nesting) {
      const sets: Record<string, [Matrix, Matrix]> = {
        MRL: [prefixColumns(emb.MRL[0], m), prefixColumns(emb.MRL[1], m)],
        'FF (first m units)': [prefixColumns(emb['FF (first m units)'][0], m), prefixColumns(emb['FF (first m units)'][1], m)],
        'PCA of FF': base.pca(m),
      };
      for (const [method, [db, q]] of Object.entries(sets)) {
        const nn = await retrieveNearest(db, q, K);
        const r = retrievalMetrics(nn, K, train.y, test.y);
        rows.push({ kind: 'size', method, size: m, mapAt10: r.mapAtK, oneNn: r.oneNnAccuracy, cost: m * train.x.rows });
      }
    }
    progress.update(2, 'single-shot retrieval');
    const [db, q] = emb.MRL;
    for (const ms of size.nesting.filter((m) => m < d)) {
      const f = await funnelRetrieval(db, q, [{ dims: ms, keep: shortlist }, { dims: d, keep: K }]);
      const r = retrievalMetrics(f.neighbors, K, train.y, test.y);
      rows.push({ kind: 'funnel', method: `MRL funnel ${ms}→${d}`, size: ms, mapAt10: r.mapAtK, oneNn: r.oneNnAccuracy, cost: f.costPerQuery });
    }
    progress.update(3, 'funnels');
    progress.stop();
    const full = rows.find((r) => r.kind === 'size' && r.method === 'MRL' && r.size === d)!;
    return {
      rows,
      meta: {
        databaseRows: train.x.rows,
        queryRows: test.x.rows,
        k: K,
        shortlist,
        encoder: `784-${size.hidden.join('-')}-${d}`,
        fullSizeMapAt10: full.mapAt10,
        funnels: rows.filter((r) => r.kind === 'funnel').map((r) => ({ method: r.method, mapAt10: r.mapAt10, costRatio: (d * train.x.rows) / r.cost })),
      },
    };
  },
  spec: (rows) => mrlRetrievalSpec(rows),
});

export function mrlRetrievalSpec(rows: MrlRetrievalRow[]): TopLevelSpec {
  const sizes = [...new Set(rows.filter((r) => r.kind === 'size').map((r) => r.size))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'MNIST retrieval with nested embeddings', subtitle: `database = train digits, queries = test digits; cosine kNN; mAP@${K} as MRL computes it` },
    data: { values: rows },
    hconcat: [
      {
        title: `mAP@${K} vs size`,
        transform: [{ filter: "datum.kind === 'size'" }],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: sizes }, title: 'dims used' },
          y: { field: 'mapAt10', type: 'quantitative', title: `mAP@${K}` },
          color: { field: 'method', type: 'nominal', title: null },
        },
        width: 300,
        height: 240,
      },
      {
        title: 'Adaptive retrieval: accuracy vs cost',
        layer: [
          {
            transform: [{ filter: "datum.kind === 'size' && datum.method === 'MRL'" }],
            // single-shot search with the first m MRL dims, m = each nesting size
            mark: { type: 'line', point: { color: '#f58518' }, color: '#f58518' },
            encoding: {
              x: { field: 'cost', type: 'quantitative', scale: { type: 'log' }, title: 'multiply-adds per query' },
              y: { field: 'mapAt10', type: 'quantitative', title: `mAP@${K}` },
            },
          },
          {
            transform: [{ filter: "datum.kind === 'funnel'" }],
            mark: { type: 'point', shape: 'diamond', size: 110, filled: true },
            encoding: {
              x: { field: 'cost', type: 'quantitative' },
              y: { field: 'mapAt10', type: 'quantitative' },
              color: { field: 'method', type: 'nominal', title: `funnel (top ${SHORTLIST})`, scale: { scheme: 'reds' } },
            },
          },
        ],
        width: 300,
        height: 240,
      },
    ],
    resolve: { scale: { y: 'independent', color: 'independent' } },
    config: { legend: { orient: 'bottom' } },
  } as TopLevelSpec;
}
