/**
 * Figure `lm-msae-prefix`: Matryoshka vs flat BatchTopK SAEs on a language model's residual
 * stream, judged inside the model. A GPT (src/lm/) is trained on the Brown corpus's training
 * files; its residual stream at one hook is captured on random training windows, scaled to mean
 * norm √d (SAELens's expected_average_only_in) and used to train a Matryoshka SAE (halving
 * prefixes) and a flat SAE of the same width and k, several seeds each; the scale is folded back
 * into the weights. Per prefix, on held-out test files: CE loss recovered and KL when the prefix's
 * reconstruction is spliced into the forward pass (SAELens's definitions, docs/methods/lm.md §4),
 * FVU, L0 and dead latents. The flat SAE is read by its most frequent latents (training rows),
 * the reading a user without a Matryoshka SAE would try (Bussmann et al. 2025 §5). For the first
 * seed, SAEBench's metrics with the tokens' coarse parts of speech as the classes (noun, verb,
 * determiner, ...; docs/methods/msae.md §5.4–§5.6): 1-sparse probing accuracy and probe-based
 * absorption per prefix (a "noun" feature absorbed into latents of particular nouns), and the
 * feature density of every Matryoshka group.
 */
import type { TopLevelSpec } from 'vega-lite';
import { selectRows, type Matrix } from '../data/matrix.js';
import { BROWN_COARSE_TAGS, coarseTag } from '../data/brown.js';
import { evaluationWindows, sampleWindows } from '../lm/train.js';
import { captureActivations } from '../lm/capture.js';
import { foldActivationScale, permuteLatents, type Sae } from '../sae/model.js';
import { halvingPrefixes } from '../sae/config.js';
import { trainSae } from '../sae/train.js';
import { featureDensity, latentsByFrequency } from '../sae/metrics.js';
import { probeAbsorption, sparseProbing } from '../sae/probing.js';
import { spliceEvaluation } from '../workflows/lm-sae.js';
import type { BrownLmScores } from '../workflows/lm-brown.js';
import { defineExperiment } from './define.js';
import { LM_SIZES, brownLm, scaleToRootD, type LmRunParams } from './lm-common.js';
import { meanSdLayers, spread } from './msae-prefix.js';

/** Parameters of a run: the LM's (lm-common.ts), then the SAEs'. */
export interface LmMsaePrefixParams extends LmRunParams {
  /** The hook the SAEs read and are spliced into. */
  hook: string;
  /** Random training windows whose activations train the SAEs. */
  saeWindows: number;
  /** Test windows the SAEs are scored on. */
  evalWindows: number;
  dSae: number;
  /** Mean active latents per token (BatchTopK). */
  k: number;
  epochs: number;
  saeBatchSize: number;
  /** SAE seeds (seed, seed + 1, ...). */
  seeds: number;
}

/** A row: one SAE kind, seed and prefix, scored on the test windows. */
export type LmMsaePrefixRow = {
  model: 'Matryoshka' | 'flat';
  seed: number;
  prefix: number;
  ceLossRecovered: number;
  ceSpliced: number;
  klDivergence: number;
  fvu: number;
  explainedVariance: number;
  l0: number;
  deadFraction: number;
  /** The SAE's inference threshold θ (on the scaled activations). */
  threshold: number;
  /** First seed only (else null): 1-sparse probing accuracy, mean over the coarse POS classes. */
  probeK1: number | null;
  /** First seed only: SAEBench's mean absorption fraction and full-absorption rate, mean over POS classes. */
  absorptionFraction: number | null;
  fullAbsorptionRate: number | null;
};

/** The feature density of one Matryoshka group of the first seed's Matryoshka SAE (test tokens). */
export interface LmGroupDensity {
  start: number;
  end: number;
  deadFraction: number;
  /** Median log10 firing frequency of the group's live latents (null when all are dead). */
  medianLog10: number | null;
}

/** The held-out rows are split again for the SAEBench probes: half train them, half test them. */
const PROBE_TEST_FRACTION = 0.5;

export const lmMsaePrefix = defineExperiment({
  id: 'lm-msae-prefix',
  title: 'Matryoshka vs flat SAEs on a Brown-corpus GPT: CE loss recovered, FVU and L0 per prefix',
  sizes: {
    smoke: {
      ...LM_SIZES.smoke,
      hook: 'blocks.1.hook_resid_pre', saeWindows: 200, evalWindows: 16, dSae: 128, k: 8, epochs: 4, saeBatchSize: 256, seeds: 2,
    },
    full: {
      ...LM_SIZES.full,
      hook: 'blocks.1.hook_resid_pre', saeWindows: 6000, evalWindows: 150, dSae: 2048, k: 16, epochs: 5, saeBatchSize: 4096, seeds: 3,
    },
  } satisfies Record<string, LmMsaePrefixParams>,
  async run({ params: cfg, seed, progress }) {
    const seeds = Array.from({ length: cfg.seeds }, (_, i) => seed + i);
    // One unit per LM step, then the capture, then each SAE.
    progress.start(cfg.lmSteps + 2 + 2 * seeds.length, 'lm-msae-prefix');
    const lm = await brownLm(cfg, seed, progress);
    const { streams, model } = lm;
    const lmScores: BrownLmScores = lm.scores;
    progress.update(cfg.lmSteps + 1, `LM: test perplexity ${lmScores.model.test.perplexity.toFixed(1)} (bigram ${lmScores.bigram.test.perplexity.toFixed(1)})`);
    // SAE training rows: random training windows; scaled so the mean row norm is √d.
    const T = cfg.contextLength;
    const windows = sampleWindows(streams.train.ids, cfg.saeWindows, T, seed, 0);
    const { x, scale } = scaleToRootD((await captureActivations(model, windows, [cfg.hook])).get(cfg.hook) as Matrix);
    progress.update(cfg.lmSteps + 2, `captured ${x.rows} rows at ${cfg.hook}`);

    const test = evaluationWindows(streams.test.ids, T, cfg.evalWindows);
    const prefixes = halvingPrefixes(cfg.dSae);
    // The test rows on the SAEs' scale, labeled by the coarse part of speech of their token
    // (row r of consecutive windows is token r of the test stream).
    const testRaw = (await captureActivations(model, test, [cfg.hook])).get(cfg.hook) as Matrix;
    const xTest: Matrix = { data: testRaw.data.map((v) => v * scale), rows: testRaw.rows, cols: testRaw.cols };
    // Probe classes: the coarse tags with at least 20 test tokens, 'other' (a grab bag) left out.
    const coarse = Array.from({ length: xTest.rows }, (_, r) => coarseTag(streams.test.tagNames[streams.test.tagIds[r]]));
    const probeClasses = BROWN_COARSE_TAGS.filter((c) => c !== 'other' && coarse.filter((x) => x === c).length >= 20);
    const probeRows = coarse.flatMap((c, r) => (probeClasses.includes(c) ? [r] : []));
    const xProbe = selectRows(xTest, probeRows);
    const posLabels = Int32Array.from(probeRows, (r) => probeClasses.indexOf(coarse[r]));
    const groupDensity: LmGroupDensity[] = [];
    const rows: LmMsaePrefixRow[] = [];
    const ceClean: number[] = [];
    const ceZero: number[] = [];
    let done = cfg.lmSteps + 2;
    const train1 = async (prefixList: number[], s: number): Promise<Sae> =>
      (
        await trainSae(x, {
          architecture: { dIn: x.cols, dSae: cfg.dSae, activation: 'batchtopk', k: cfg.k, prefixes: prefixList },
          training: { batchSize: cfg.saeBatchSize, epochs: cfg.epochs, seed: s, deadTokens: Math.min(x.rows, 1_000_000) },
        })
      ).sae;
    for (const s of seeds) {
      const flat = await train1([cfg.dSae], s);
      const kinds: [LmMsaePrefixRow['model'], Sae][] = [
        ['Matryoshka', await train1(prefixes, s)],
        ['flat', permuteLatents(flat, await latentsByFrequency(flat, x))],
      ];
      for (const [kind, sae] of kinds) {
        const spliced = await spliceEvaluation(model, foldActivationScale(sae, scale), cfg.hook, test, { prefixes });
        const first = s === seeds[0];
        const probes = first ? await sparseProbing(sae, xProbe, posLabels, { prefixes, k: [1], baseline: false, seed, testFraction: PROBE_TEST_FRACTION }) : [];
        const absorbed = first ? await probeAbsorption(sae, xProbe, posLabels, { prefixes, seed, testFraction: PROBE_TEST_FRACTION }) : [];
        if (first && kind === 'Matryoshka') {
          for (const g of (await featureDensity(sae, xTest)).byGroup) groupDensity.push({ start: g.start, end: g.end, deadFraction: g.deadFraction, medianLog10: g.medianLog10 });
        }
        for (const r of spliced) {
          const absorption = first ? absorbed.find((a) => a.prefix === r.prefix && a.label === 'mean')! : null;
          rows.push({
            model: kind, seed: s, prefix: r.prefix, ceLossRecovered: r.ceLossRecovered, ceSpliced: r.ceSpliced, klDivergence: r.klDivergence,
            fvu: r.fvu, explainedVariance: r.explainedVariance, l0: r.l0, deadFraction: r.deadFraction, threshold: sae.threshold?.[0] ?? -1,
            probeK1: first ? probes.find((p) => p.prefix === r.prefix && p.k === 1 && p.label === 'mean')!.accuracy : null,
            absorptionFraction: absorption?.meanAbsorptionFraction ?? null,
            fullAbsorptionRate: absorption?.fullAbsorptionRate ?? null,
          });
        }
        ceClean.push(spliced[0].ceClean);
        ceZero.push(spliced[0].ceZeroAblation);
        progress.update(++done, `seed ${s}: ${kind}`);
      }
    }
    progress.stop();
    const pick = (model: LmMsaePrefixRow['model'], p: number, field: 'ceLossRecovered' | 'explainedVariance' | 'l0' | 'klDivergence') =>
      seeds.map((s) => rows.find((r) => r.model === model && r.seed === s && r.prefix === p)![field]);
    const findings = prefixes.map((p) => {
      const m = pick('Matryoshka', p, 'ceLossRecovered');
      const f = pick('flat', p, 'ceLossRecovered');
      return {
        prefix: p,
        ceLossRecovered: { matryoshka: spread(m), flat: spread(f) },
        explainedVariance: { matryoshka: spread(pick('Matryoshka', p, 'explainedVariance')), flat: spread(pick('flat', p, 'explainedVariance')) },
        l0: { matryoshka: spread(pick('Matryoshka', p, 'l0')), flat: spread(pick('flat', p, 'l0')) },
        matryoshkaWinsSeeds: m.filter((v, i) => v > f[i]).length,
      };
    });
    return {
      rows,
      meta: {
        lm: { architecture: lm.architecture, parameters: lm.parameters, steps: cfg.lmSteps, ...lmScores },
        tokens: { train: streams.train.ids.length, validation: streams.validation.ids.length, test: streams.test.ids.length },
        hook: cfg.hook,
        activationScale: scale,
        saeTrainRows: x.rows,
        testTokens: test.inputs.length,
        prefixes,
        seeds,
        ceClean: ceClean[0],
        ceZeroAblation: ceZero[0],
        flatOrder: 'latents ranked by firing frequency on the training rows',
        probeClasses,
        probeRows: probeRows.length,
        findings,
        groupDensity,
      },
    };
  },
  spec: (rows, meta) => lmMsaePrefixSpec(rows, meta.prefixes),
});

/** CE loss recovered, explained variance, L0 and dead latents per prefix: mean over seeds and ± 1 sd. */
export function lmMsaePrefixSpec(rows: LmMsaePrefixRow[], prefixes: number[]): TopLevelSpec {
  // Padded log domain, so the first and last prefixes keep their tick labels.
  const domain = [prefixes[0] / 1.25, prefixes[prefixes.length - 1] * 1.25];
  const x = { field: 'prefix', type: 'quantitative', scale: { type: 'log', base: 2, domain, nice: false }, axis: { values: prefixes }, title: 'prefix size (latents)' };
  const color = { field: 'model', type: 'nominal', title: null, scale: { domain: ['Matryoshka', 'flat'], range: ['#e45756', '#4c78a8'] }, legend: { labelLimit: 240, labelExpr: "datum.label === 'flat' ? 'flat, by frequency' : datum.label" } };
  const panel = (field: string, title: string, extra: object = {}) => ({
    transform: [{ filter: `isValid(datum.${field})` }], // the SAEBench columns are measured on the first seed only
    layer: meanSdLayers(x, color, field, title, extra),
    width: 230,
    height: 150,
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'SAEs spliced into a Brown-corpus GPT: every prefix judged inside the model', subtitle: 'BatchTopK, θ inference; held-out test files; mean ± 1 sd over seeds (probing and absorption: first seed)' },
    data: { values: rows },
    vconcat: [
      // CE loss recovered and explained variance differ by a point or two: axes not from zero.
      { hconcat: [panel('ceLossRecovered', 'CE loss recovered', { scale: { zero: false } }), panel('explainedVariance', 'explained variance (1 − FVU)', { scale: { zero: false } })] },
      { hconcat: [panel('l0', 'L0 (active latents)', { scale: { type: 'log' } }), panel('deadFraction', 'dead latents (fraction)', { scale: { domain: [0, 1] } })] },
      { hconcat: [panel('probeK1', '1-sparse probe accuracy (POS)', { scale: { zero: false } }), panel('absorptionFraction', 'absorption fraction (SAEBench, POS)', { scale: { domain: [0, 1] } })] },
    ],
  } as unknown as TopLevelSpec;
}
