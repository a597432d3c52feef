import { describe, it, expect } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { BROWN_GENRES } from '../../src/data/brown.js';
import { brownLm, hookSaes, releaseLmFigureCache } from '../../src/experiments/lm-common.js';
import { genrePassages, lmGeometryNested, spreadWindows } from '../../src/experiments/lm-geometry-nested.js';
import { dominantTags, inflectionPairs, lmConceptGeometry } from '../../src/experiments/lm-concept-geometry.js';
import { silentProgress } from '../../src/backend/progress.js';

// Both figures read one smoke LM and one set of hook SAEs: the cache trains them once for this file.
describe('the LM figures share one trained LM per process', () => {
  it('returns the same LM for the same parameters and trains a new one (disposing the old) when they change', async () => {
    const params = { ...lmGeometryNested.sizes.smoke, lmSteps: 3 };
    const a = await brownLm(params, 0, silentProgress);
    expect(await brownLm({ ...params }, 0, silentProgress)).toBe(a);
    const tensors = tf.memory().numTensors;
    const b = await brownLm({ ...params, lmSteps: 4 }, 0, silentProgress);
    expect(b).not.toBe(a);
    expect(tf.memory().numTensors).toBe(tensors); // a's weights went when b's came
    const saes = await hookSaes(b, { ...params, lmSteps: 4, saeWindows: 20, epochs: 1 }, 0, () => {});
    expect(saes.byHook.map((h) => h.hook)).toEqual(params.hooks);
    for (const h of saes.byHook) {
      // Scaled to mean row norm √d.
      let norm = 0;
      for (let r = 0; r < h.x.rows; r++) norm += Math.hypot(...h.x.data.subarray(r * h.x.cols, (r + 1) * h.x.cols));
      expect(norm / h.x.rows).toBeCloseTo(Math.sqrt(h.x.cols), 3);
    }
    releaseLmFigureCache();
    expect([...b.model.params.values()].every((v) => v.isDisposed)).toBe(true);
  }, 60_000);
});

describe('lm-geometry-nested at smoke size', () => {
  it('measures geometry across layers and SAE prefixes on test tokens, and genre embeddings of passages', async () => {
    const { rows, meta } = await lmGeometryNested.run({ size: 'smoke' });
    expect(meta.layers).toEqual(['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post']);
    const value = (family: string, panel: string, a: number, b: number) => rows.find((r) => r.family === family && r.panel === panel && r.sizeA === a && r.sizeB === b)!.value!;
    const layers = 'residual stream (layers)';
    for (const panel of ['cka', 'rsa', 'trsa']) {
      for (let i = 0; i < 3; i++) {
        expect(value(layers, panel, i, i)).toBe(1);
        for (let j = 0; j < 3; j++) expect(value(layers, panel, i, j)).toBeCloseTo(value(layers, panel, j, i), 6);
      }
    }
    // Depth: the two residual streams around block 1 are more alike than the embeddings and the last stream.
    expect(value(layers, 'cka', 1, 2)).toBeGreaterThan(value(layers, 'cka', 0, 2));
    // Nesting: the SAE's larger prefixes are more alike than its smallest and largest.
    const sae = `Matryoshka SAE code (${meta.saeHook})`;
    expect(value(sae, 'cka', 64, 128)).toBeGreaterThan(value(sae, 'cka', 8, 128));
    // UMAP: one point per stimulus per panel, colored by a known part of speech.
    const umap = rows.filter((r) => r.panel === 'umap');
    expect(umap.length).toBe(meta.stimuli * (3 + 2));
    expect(new Set(umap.map((r) => meta.posNames[r.label!]))).toContain('noun');
    expect(Object.values(meta.posCounts).reduce((s, v) => s + v, 0)).toBe(meta.stimuli);
    // Genre panels: every method at every size for every seed.
    for (const method of ['MRL', 'FF', 'PCA of FF', 'random FF units']) {
      for (const size of [2, 4, 16]) {
        expect(rows.filter((r) => r.panel === 'genreAccuracy' && r.method === method && r.size === size)).toHaveLength(1);
        expect(meta.genre[method][size].mapAt10).toBeGreaterThan(0);
      }
    }
    expect(meta.passages.train).toBeGreaterThan(100);
  }, 180_000);

  it('cuts passages inside documents and labels them by genre', async () => {
    const lm = await brownLm(lmGeometryNested.sizes.smoke, 0, silentProgress);
    const T = lm.architecture.contextLength;
    const { x, y } = await genrePassages(lm, 'test', 'blocks.0.hook_resid_pre');
    let expected = 0;
    for (let d = 0; d < lm.streams.documents.test.length; d++) expected += Math.floor(lm.streams.test.document.filter((v) => v === d).length / T);
    expect(x.rows).toBe(expected);
    expect(new Set(y)).toEqual(new Set(lm.streams.documents.test.map((doc) => BROWN_GENRES.findIndex((g) => g.name === doc.genre))));
    const { windows, offsets } = spreadWindows(lm.streams.test.ids, 10, T);
    expect(windows.batchSize).toBe(10);
    expect(Array.from(windows.inputs.subarray(T, 2 * T))).toEqual(Array.from(lm.streams.test.ids.subarray(offsets[1], offsets[1] + T)));
  }, 60_000);
});

describe('lm-concept-geometry at smoke size', () => {
  it('finds regular inflection pairs from the tags', () => {
    const vocab = ['<doc>', 'state', 'states', 'walk', 'walked', 'walking', 'big', 'bigger', 'run'];
    const tags = ['', 'nn', 'nns', 'vb', 'vbd', 'vbg', 'jj', 'jjr', 'vb'];
    const pairs = inflectionPairs(vocab, tags, new Int32Array(vocab.length).fill(5), 2);
    expect(pairs.map((p) => `${vocab[p.a]}→${vocab[p.b]}`)).toEqual(['state→states', 'walk→walked', 'walk→walking', 'big→bigger']);
    expect(inflectionPairs(vocab, tags, Int32Array.from([5, 5, 1, 5, 5, 5, 5, 5, 5]), 2).map((p) => vocab[p.a])).not.toContain('state');
    const ids = Int32Array.from([1, 1, 1, 2]);
    expect(dominantTags(ids, Int16Array.from([1, 2, 1, 0]), ['nn', 'nn-tl', 'vb'], 3)).toEqual(['', 'nn', 'nn']);
  });

  it('measures parallelograms, lobes and spectra per layer and prefix', async () => {
    const { rows, meta } = await lmConceptGeometry.run({ size: 'smoke' });
    expect(meta.relations.map((r) => r.name)).toContain('noun → plural');
    expect(meta.relations.every((r) => r.pairs >= 4)).toBe(true);
    expect(meta.perHook.map((h) => h.hook)).toEqual(['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post']);
    for (const h of meta.perHook) {
      for (const g of h.galaxy) expect(Number.isFinite(g.slope) && Number.isFinite(g.nullSlope)).toBe(true);
      // The spectrum holds the unit directions' total variance: at most 1 (less their mean's squared norm).
      const spectrum = rows.filter((r) => r.scale === 'spectrum' && r.hook === h.hook).map((r) => r.value!);
      const full = h.galaxy[h.galaxy.length - 1];
      expect(spectrum).toHaveLength(Math.min(full.latents, 32));
      expect(spectrum.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual((full.latents / (full.latents - 1)) + 1e-9);
    }
    // Co-occurring latents sit together in decoder space beyond shuffled geometry at some layer.
    expect(meta.perHook.some((h) => h.brain.length > 0 && h.brain[h.brain.length - 1].p < 0.05)).toBe(true);
    expect(meta.verdict).toHaveLength(3);
  }, 180_000);
});
