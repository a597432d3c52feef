import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/data/npy.js';
import { MNIST_ND_METHODS, mnistNd } from '../../src/experiments/mnist-nd.js';

describe('mnist-nd at smoke size', () => {
  it('clusters mixture-VAE latents far above chance and above a random projection, and writes the data sets', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mnist-nd-')), 'sets');
    try {
      const { rows, meta } = await mnistNd.run({ size: 'smoke', overrides: { datasetsDir: dir } });
      const latents = meta.params.latents;
      expect(latents).toEqual([2, 8]);
      // Every method scored at every size; ARI and AMI are agreements in [-1, 1].
      for (const m of MNIST_ND_METHODS) {
        expect(meta.ari[m]).toHaveLength(latents.length);
        for (const v of [...meta.ari[m], ...meta.ami[m]]) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      }
      expect(rows.filter((r) => r.panel === 'clustering' && r.measure === 'ARI')).toHaveLength(MNIST_ND_METHODS.length * latents.length);
      // Shuffled labels agree by chance only; the VAE's 8-d latents cluster into digits.
      expect(Math.abs(meta.ariShuffledLabels)).toBeLessThan(0.01);
      expect(meta.ari['k-means'][1]).toBeGreaterThan(0.25);
      expect(meta.ari['Gaussian mixture'][1]).toBeGreaterThan(0.25);
      // ... better than k-means on a random projection of the pixels to the same 8 dimensions.
      expect(meta.ari['k-means'][1]).toBeGreaterThan(meta.ari['k-means on a random projection'][1] + 0.1);
      // The VAEs learned: an ELBO well above a coin-flip decoder's −784 ln 2 ≈ −543 nats, and their loss fell.
      for (const e of meta.elbo) expect(e).toBeGreaterThan(-300);
      for (const h of meta.history) expect(h[h.length - 1]).toBeLessThan(h[0]);
      // CKA: 1 on the diagonal, symmetric, and the 2-d and 8-d spaces share structure.
      expect(meta.cka[0][0]).toBe(1);
      expect(meta.cka[0][1]).toBe(meta.cka[1][0]);
      expect(meta.cka[0][1]).toBeGreaterThan(0.3);
      expect(meta.topology.h0Total.every((v) => v > 0)).toBe(true);
      // DBSCAN's eps comes from the rule in meta, and finds some clusters with some noise.
      expect(meta.dbscan.rule).toMatch(/^eps = the 0\.5 quantile/);
      expect(meta.dbscan.clusters.every((c) => c >= 1)).toBe(true);
      // The verdicts are computed from the numbers.
      expect(meta.verdicts[1]).toMatch(meta.harderWithDimension ? /: reproduced/ : /: not reproduced/);
      // The data sets, as .npy, the same digits in the same order, with their labels.
      expect(meta.datasets).toEqual({ folder: dir, files: ['mnist-2d.npy', 'mnist-8d.npy', 'labels.npy'], rows: 2000 });
      expect(readdirSync(dir).sort()).toEqual(['labels.npy', 'mnist-2d.npy', 'mnist-8d.npy']);
      expect(readNpy(join(dir, 'mnist-8d.npy')).shape).toEqual([2000, 8]);
      const labels = readNpy(join(dir, 'labels.npy'));
      expect(labels.shape).toEqual([2000]);
      expect(labels.data).toBeInstanceOf(Int32Array);
      expect(new Set(labels.data).size).toBe(10);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  }, 120_000);
});
