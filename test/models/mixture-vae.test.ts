import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { loadMnist } from '../../src/data/mnist.js';
import { headRows } from '../../src/data/matrix.js';
import {
  createMixtureVae,
  disposeMixtureVae,
  encodeMixtureVae,
  mixturePriorLogDensity,
  mixtureVaeElbo,
  trainMixtureVae,
} from '../../src/models/mixture-vae.js';
import { NestlabArgumentError } from '../../src/errors.js';

/** log N(z; m, diag(v)) by hand. */
function logNormal(z: number[], m: number[], v: number[]): number {
  return z.reduce((s, zj, j) => s - 0.5 * (Math.log(2 * Math.PI * v[j]) + (zj - m[j]) ** 2 / v[j]), 0);
}

describe('mixture VAE', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const { train } = loadMnist({ limit: 1200 });

  /** A 3-pixel, 2-latent, 2-component model with every weight set by hand. */
  function fixedModel() {
    const vae = createMixtureVae({ inputDim: 3, latent: 2, components: 2, hidden: [], seed: 0 });
    // Encoder: zero kernel, so μ = (0.5, −1) and log σ² = −30 (z = μ up to 3e−7) for every input.
    tf.tidy(() => {
      vae.encoder.layers[0].setWeights([tf.zeros([3, 4]), tf.tensor1d([0.5, -1, -30, -30])]);
      // Decoder: zero kernel, so the logits are the bias whatever z.
      vae.decoder.layers[0].setWeights([tf.zeros([2, 3]), tf.tensor1d([0.3, -0.2, 1])]);
      vae.priorMeans.assign(tf.tensor2d([[0, 0], [1, -1]]));
      vae.priorLogVars.assign(tf.tensor2d([[0, Math.log(4)], [Math.log(0.25), 0]]));
      vae.priorLogits.assign(tf.tensor1d([0, Math.log(3)])); // π = (1/4, 3/4)
    });
    return vae;
  }
  const prior = (z: number[]) => Math.log(0.25 * Math.exp(logNormal(z, [0, 0], [1, 4])) + 0.75 * Math.exp(logNormal(z, [1, -1], [0.25, 1])));

  it('computes the mixture prior log density as a direct sum over components', () => {
    const vae = fixedModel();
    const points = [[0, 0], [0.5, -1], [3, 2], [-2, 5]];
    const got = tf.tidy(() => mixturePriorLogDensity(vae, tf.tensor2d(points)).arraySync());
    points.forEach((z, i) => expect(got[i]).toBeCloseTo(prior(z), 5));
    disposeMixtureVae(vae);
  });

  it('matches a hand-computed ELBO: Bernoulli log-likelihood and −H[q] − log p(z)', async () => {
    const vae = fixedModel();
    const x = { data: Float32Array.from([1, 0, 0.5, 0, 1, 1]), rows: 2, cols: 3 };
    const b = [0.3, -0.2, 1];
    const softplus = (t: number) => Math.log1p(Math.exp(t));
    const ll = (row: number[]) => row.reduce((s, xj, j) => s + xj * b[j] - softplus(b[j]), 0);
    const expectedLl = (ll([1, 0, 0.5]) + ll([0, 1, 1])) / 2;
    const negEntropy = -0.5 * (2 * -30 + 2 * (Math.log(2 * Math.PI) + 1));
    const expectedKl = negEntropy - prior([0.5, -1]);
    const r = await mixtureVaeElbo(vae, x, { seed: 3 });
    expect(r.logLikelihood).toBeCloseTo(expectedLl, 5);
    expect(r.kl).toBeCloseTo(expectedKl, 3);
    expect(r.elbo).toBeCloseTo(expectedLl - expectedKl, 3);
    disposeMixtureVae(vae);
  });

  it('trains: the ELBO improves, the same seed gives the same latents, no tensor leaks', async () => {
    const x = headRows(train.x, 600);
    const before = tf.memory().numTensors;
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const vae = createMixtureVae({ inputDim: 784, latent: 4, components: 10, hidden: [64], seed: 1 });
      const start = await mixtureVaeElbo(vae, x);
      const history = await trainMixtureVae(vae, x, { epochs: 3, batchSize: 64, learningRate: 2e-3, seed: 2 });
      const end = await mixtureVaeElbo(vae, x);
      const z = await encodeMixtureVae(vae, x);
      disposeMixtureVae(vae);
      runs.push({ start, end, history, z });
    }
    expect(tf.memory().numTensors).toBe(before);
    const [a, b] = runs;
    expect(a.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(a.history[2].loss).toBeLessThan(a.history[0].loss);
    // 784 pixels at log 2 each is about 543 nats for a coin-flip decoder; training must beat it clearly.
    expect(a.end.elbo).toBeGreaterThan(a.start.elbo + 100);
    expect(a.end.kl).toBeGreaterThan(0);
    expect(a.z.rows).toBe(600);
    expect(a.z.cols).toBe(4);
    expect(b.history).toEqual(a.history);
    expect(b.z.data).toEqual(a.z.data);
  }, 60_000);

  it('rejects bad input, naming the argument', async () => {
    expect(() => createMixtureVae({ inputDim: 784, latent: 0 })).toThrow(/config\.latent/);
    expect(() => createMixtureVae({ inputDim: 784, latent: 2, components: 0 })).toThrow(/config\.components/);
    expect(() => createMixtureVae({ inputDim: 784, latent: 2, hidden: [0] })).toThrow(/config\.hidden\[0\]/);
    expect(() => createMixtureVae({ inputDim: 784, latent: 2, latnet: 3 } as never)).toThrow(NestlabArgumentError);
    const vae = createMixtureVae({ inputDim: 3, latent: 2, hidden: [4] });
    const bad = { data: Float32Array.from([0, 0.5, 2]), rows: 1, cols: 3 };
    const wide = { data: new Float32Array(4), rows: 1, cols: 4 };
    const ok = { data: new Float32Array(3), rows: 1, cols: 3 };
    await expect(trainMixtureVae(vae, bad)).rejects.toThrow(/models\.trainMixtureVae: x /);
    await expect(trainMixtureVae(vae, wide)).rejects.toThrow(/x\.cols/);
    await expect(trainMixtureVae(vae, ok, { beta: -1 })).rejects.toThrow(/options\.beta/);
    await expect(trainMixtureVae(vae, ok, { epochs: 0 })).rejects.toThrow(/options\.epochs/);
    await expect(trainMixtureVae(vae, ok, { epoch: 3 } as never)).rejects.toThrow(/epoch/);
    await expect(encodeMixtureVae(vae, wide)).rejects.toThrow(/models\.encodeMixtureVae: x\.cols/);
    await expect(mixtureVaeElbo(vae, bad)).rejects.toThrow(/models\.mixtureVaeElbo: x /);
    disposeMixtureVae(vae);
  });
});
