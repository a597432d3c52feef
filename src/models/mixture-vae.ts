/**
 * A mixture VAE: a variational autoencoder (Kingma & Welling 2014) whose prior is a learnable
 * mixture of C diagonal Gaussians, p(z) = Σ_c π_c N(z; m_c, diag(s_c²)) (the "MoG prior" of
 * Tomczak & Welling 2018; cf. Dilokthanakul et al. 2016's GMVAE), used by MNIST-Nd (Turishcheva
 * et al. 2024) to make data sets of the same digits at latent sizes 2…64 (docs/methods/mnist-nd.md).
 *
 * Encoder: MLP x → hidden (ReLU) → [μ, log σ²] ∈ ℝ^{2d}, q(z|x) = N(μ, diag σ²). Decoder: MLP
 * z → hidden (ReLU) → 784 logits, p(x|z) = Π_j Bernoulli(x_j; sigmoid(logit_j)) (the binary
 * cross-entropy of jariasf/GMVAE, which the MNIST-Nd code adapts; gray levels in [0, 1] are used
 * as they are). Loss per row, the negative β-ELBO:
 *   L(x) = −E_q[log p(x|z)] + β (−H[q(z|x)] − E_q[log p(z)])
 * with H[q] in closed form and the two expectations from one reparameterized draw z = μ + σ ⊙ ε,
 * ε ~ N(0, I) drawn from nestlab's seeded Rng (docs/methods/mnist-nd.md §1–§2).
 *
 * Trained by the one seeded minibatch loop (fit.ts): Adam, seeded batch order, progress per epoch,
 * Keras-style early stopping on the training loss.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { checkModelInput, type Matrix } from '../data/matrix.js';
import { fitMinibatches, type EpochRecord, type FitOptions } from './fit.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Config of `models.createMixtureVae`: sizes of the networks and of the mixture prior. */
export interface MixtureVaeConfig {
  /** Input width (784 for MNIST pixels); inputs are read as Bernoulli means in [0, 1]. */
  inputDim: number;
  /** Latent size d. */
  latent: number;
  /** Mixture components C of the prior. Default 10 (MNIST-Nd: one per digit class). */
  components?: number;
  /** Hidden widths of the encoder; the decoder mirrors them. Default [512, 256]. */
  hidden?: number[];
  /** Seed of the weights and of the prior's initial means. Default 0. */
  seed?: number;
}

/** A mixture VAE: encoder, decoder, the prior's parameters, and the config it was built from. */
export interface MixtureVae {
  /** The config with its defaults filled in. */
  config: Required<MixtureVaeConfig>;
  /** x → [μ, log σ²] (2·latent outputs). */
  encoder: tf.Sequential;
  /** z → logits of the 784 (inputDim) Bernoulli means. */
  decoder: tf.Sequential;
  /** Prior means m_c, [C, d]. */
  priorMeans: tf.Variable;
  /** Prior log-variances log s_c², [C, d]. */
  priorLogVars: tf.Variable;
  /** Prior mixture logits, [C]: π = softmax(logits). */
  priorLogits: tf.Variable;
}

function resolveConfig(where: string, config: MixtureVaeConfig): Required<MixtureVaeConfig> {
  if (config === null || typeof config !== 'object') throw new NestlabArgumentError(where, 'config', 'an object', config);
  checkKnownKeys(where, config, ['inputDim', 'latent', 'components', 'hidden', 'seed'], 'config');
  checkInt(where, 'config.inputDim', config.inputDim, 1);
  checkInt(where, 'config.latent', config.latent, 1);
  const components = checkInt(where, 'config.components', config.components ?? 10, 1);
  const hidden = config.hidden ?? [512, 256];
  if (!Array.isArray(hidden)) throw new NestlabArgumentError(where, 'config.hidden', 'an array of layer widths', hidden);
  hidden.forEach((h, i) => checkInt(where, `config.hidden[${i}]`, h, 1));
  const seed = checkInt(where, 'config.seed', config.seed ?? 0, -(2 ** 53), 2 ** 53);
  return { inputDim: config.inputDim, latent: config.latent, components, hidden: [...hidden], seed };
}

function mlp(widths: number[], inputDim: number, rng: Rng, prefix: string): tf.Sequential {
  const model = tf.sequential();
  widths.forEach((units, i) => {
    const last = i === widths.length - 1;
    model.add(
      tf.layers.dense({
        units,
        inputShape: i === 0 ? [inputDim] : undefined,
        activation: last ? 'linear' : 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextUint32() }),
        biasInitializer: 'zeros',
        name: `${prefix}${last ? 'out' : `hidden${i + 1}`}`,
      }),
    );
  });
  return model;
}

/**
 * Builds a mixture VAE with seeded Glorot-uniform weights (zero biases), prior means m_c drawn
 * N(0, 1) from the seeded Rng (distinct starting modes, so the components can separate), prior
 * log-variances 0 and uniform weights π_c = 1/C (docs/methods/mnist-nd.md §1).
 *
 * @example const vae = models.createMixtureVae({ inputDim: 784, latent: 8, components: 10, hidden: [512, 256], seed: 0 });
 */
export function createMixtureVae(config: MixtureVaeConfig): MixtureVae {
  const cfg = resolveConfig('models.createMixtureVae', config);
  const rng = new Rng(cfg.seed);
  const encoder = mlp([...cfg.hidden, 2 * cfg.latent], cfg.inputDim, rng, 'encoder_');
  const decoder = mlp([...[...cfg.hidden].reverse(), cfg.inputDim], cfg.latent, rng, 'decoder_');
  const means = Float32Array.from({ length: cfg.components * cfg.latent }, () => rng.normal());
  // tidy frees the initial values; the variables themselves survive it.
  const priorMeans = tf.tidy(() => tf.variable(tf.tensor2d(means, [cfg.components, cfg.latent]), true));
  const priorLogVars = tf.tidy(() => tf.variable(tf.zeros([cfg.components, cfg.latent]), true));
  const priorLogits = tf.tidy(() => tf.variable(tf.zeros([cfg.components]), true));
  return { config: cfg, encoder, decoder, priorMeans, priorLogVars, priorLogits };
}

/**
 * log p(z) under the mixture prior for each row of z [n, d]:
 * log Σ_c π_c Π_j N(z_j; m_cj, s_cj²) = logsumexp_c [log π_c − ½ Σ_j (log 2π + log s_cj² + (z_j − m_cj)² / s_cj²)].
 * Returns [n] (the caller disposes; call inside tf.tidy).
 *
 * @internal exported for the tests.
 */
export function mixturePriorLogDensity(model: MixtureVae, z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const d = model.config.latent;
    const diff = tf.sub(tf.expandDims(z, 1), tf.expandDims(model.priorMeans, 0)); // [n, C, d]
    const quad = tf.sum(tf.div(tf.square(diff), tf.exp(tf.expandDims(model.priorLogVars, 0))), 2); // [n, C]
    const logNorm = tf.add(tf.sum(model.priorLogVars, 1), d * LOG_2PI); // [C]
    const logComp = tf.mul(-0.5, tf.add(quad, tf.expandDims(logNorm, 0)));
    const logPi = tf.logSoftmax(model.priorLogits);
    return tf.logSumExp(tf.add(logComp, tf.expandDims(logPi, 0)), 1) as tf.Tensor1D;
  });
}

/** The parts of the ELBO per row for a batch, from noise eps [n, d] (call inside tf.tidy). */
function elboParts(model: MixtureVae, xb: tf.Tensor2D, eps: tf.Tensor2D): { logLikelihood: tf.Tensor1D; kl: tf.Tensor1D } {
  const d = model.config.latent;
  const out = model.encoder.apply(xb, { training: true }) as tf.Tensor2D;
  const mu = tf.slice(out, [0, 0], [-1, d]);
  const logVar = tf.slice(out, [0, d], [-1, d]);
  const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps)) as tf.Tensor2D;
  const logits = model.decoder.apply(z, { training: true }) as tf.Tensor2D;
  // log Bernoulli(x; sigmoid(l)) = x·l − softplus(l), summed over pixels.
  const logLikelihood = tf.sum(tf.sub(tf.mul(xb, logits), tf.softplus(logits)), 1) as tf.Tensor1D;
  // −H[q] = −½ Σ_j (log 2π + 1 + log σ_j²), in closed form; −E_q[log p(z)] from the one draw.
  const negEntropy = tf.mul(-0.5, tf.add(tf.sum(logVar, 1), d * (LOG_2PI + 1)));
  const kl = tf.sub(negEntropy, mixturePriorLogDensity(model, z)) as tf.Tensor1D;
  return { logLikelihood, kl };
}

/** Options of `models.trainMixtureVae` (epochs default 10). */
export interface MixtureVaeTrainOptions extends FitOptions {
  /** Weight β of the KL term (β-VAE, Higgins et al. 2017). Default 1: the ELBO itself. */
  beta?: number;
}

/** One epoch of `models.trainMixtureVae`: `loss` is the mean negative β-ELBO per row (nats). */
export type MixtureVaeEpoch = EpochRecord;

function checkInput(where: string, model: MixtureVae, x: Matrix): Matrix {
  const m = checkModelInput(where, x, model.config.inputDim);
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i];
    if (!(v >= 0 && v <= 1)) throw new NestlabArgumentError(where, 'x', 'values in [0, 1] (Bernoulli means, e.g. MNIST gray levels)', `${v} at index ${i}`);
  }
  return m;
}

/**
 * Trains by minibatch Adam on the negative β-ELBO per row,
 * L = −log p(x|z) + β (−H[q(z|x)] − log p(z)), z = μ + σ ⊙ ε one reparameterized draw per row,
 * ε from an Rng seeded by `options.seed` (docs/methods/mnist-nd.md §2); returns the mean loss
 * per epoch (so −loss is the mean ELBO when β = 1). The same seed gives the same numbers.
 *
 * @example const history = await models.trainMixtureVae(vae, train.x, { epochs: 20, batchSize: 128, learningRate: 1e-3, seed: 0 }); // [{ epoch, loss }]
 */
export async function trainMixtureVae(model: MixtureVae, x: Matrix, options: MixtureVaeTrainOptions = {}): Promise<MixtureVaeEpoch[]> {
  const where = 'models.trainMixtureVae';
  checkKnownKeys(where, options, ['epochs', 'batchSize', 'learningRate', 'seed', 'progress', 'minDelta', 'patience', 'beta']);
  checkInput(where, model, x);
  const beta = checkNumber(where, 'options.beta', options.beta ?? 1, 0);
  const { beta: _beta, ...fit } = options;
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  // A stream of its own for the noise, apart from the batch order fitMinibatches draws from `seed`.
  const noise = new Rng(seed + 0x5eed);
  const d = model.config.latent;
  const batchLoss = (xb: tf.Tensor2D) => {
    const n = xb.shape[0];
    const eps = tf.tensor2d(Float32Array.from({ length: n * d }, () => noise.normal()), [n, d]);
    const { logLikelihood, kl } = elboParts(model, xb, eps);
    return { loss: tf.mean(tf.sub(tf.mul(beta, kl), logLikelihood)) as tf.Scalar };
  };
  const variables = [
    ...(model.encoder.trainableWeights.map((w) => w.read()) as tf.Variable[]),
    ...(model.decoder.trainableWeights.map((w) => w.read()) as tf.Variable[]),
    model.priorMeans,
    model.priorLogVars,
    model.priorLogits,
  ];
  return fitMinibatches(where, x, new Int32Array(x.rows), batchLoss, fit, { epochs: 10 }, variables);
}

/**
 * The posterior means μ(x) of q(z|x), `options.batchSize` rows at a time (default 2048): the
 * points of an MNIST-Nd data set (the paper's code keeps the encoder's means).
 *
 * @example const z = await models.encodeMixtureVae(vae, test.x); // Matrix [test.x.rows, 8]
 */
export async function encodeMixtureVae(model: MixtureVae, x: Matrix, options: { batchSize?: number } = {}): Promise<Matrix> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'models.encodeMixtureVae';
  checkKnownKeys(where, options, ['batchSize']);
  const m = checkModelInput(where, x, model.config.inputDim);
  const batchSize = checkInt(where, 'options.batchSize', options.batchSize ?? 2048, 1);
  const d = model.config.latent;
  const out = new Float32Array(m.rows * d);
  for (let start = 0; start < m.rows; start += batchSize) {
    const end = Math.min(start + batchSize, m.rows);
    const mu = tf.tidy(() => {
      const h = model.encoder.apply(tf.tensor2d(m.data.subarray(start * m.cols, end * m.cols), [end - start, m.cols])) as tf.Tensor2D;
      return tf.slice(h, [0, 0], [-1, d]);
    });
    out.set((await mu.data()) as Float32Array, start * d);
    mu.dispose();
  }
  return { data: out, rows: m.rows, cols: d };
}

/** The ELBO of a mixture VAE on data, per row on average (nats). */
export interface MixtureVaeElbo {
  /** Mean ELBO = logLikelihood − kl. */
  elbo: number;
  /** Mean E_q[log p(x|z)] (one draw per row). */
  logLikelihood: number;
  /** Mean KL(q(z|x) ‖ p(z)) estimate −H[q] − log p(z) (one draw per row). */
  kl: number;
}

/**
 * The ELBO on x, E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) with H[q] in closed form and one
 * reparameterized draw per row from an Rng seeded by `options.seed` (default 0), averaged over
 * rows (docs/methods/mnist-nd.md §2).
 *
 * @example const { elbo, logLikelihood, kl } = await models.mixtureVaeElbo(vae, test.x); // nats per digit
 */
export async function mixtureVaeElbo(model: MixtureVae, x: Matrix, options: { seed?: number; batchSize?: number } = {}): Promise<MixtureVaeElbo> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'models.mixtureVaeElbo';
  checkKnownKeys(where, options, ['seed', 'batchSize']);
  const m = checkInput(where, model, x);
  const rng = new Rng(checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53));
  const batchSize = checkInt(where, 'options.batchSize', options.batchSize ?? 2048, 1);
  const d = model.config.latent;
  let ll = 0;
  let kl = 0;
  for (let start = 0; start < m.rows; start += batchSize) {
    const end = Math.min(start + batchSize, m.rows);
    const n = end - start;
    const eps = Float32Array.from({ length: n * d }, () => rng.normal());
    const sums = tf.tidy(() => {
      const parts = elboParts(model, tf.tensor2d(m.data.subarray(start * m.cols, end * m.cols), [n, m.cols]), tf.tensor2d(eps, [n, d]));
      return tf.stack([tf.sum(parts.logLikelihood), tf.sum(parts.kl)]);
    });
    const [a, b] = (await sums.data()) as Float32Array;
    sums.dispose();
    ll += a;
    kl += b;
  }
  return { elbo: (ll - kl) / m.rows, logLikelihood: ll / m.rows, kl: kl / m.rows };
}

/**
 * Frees the model's weights (encoder, decoder and prior variables).
 *
 * @example models.disposeMixtureVae(vae); // vae is unusable afterwards
 */
export function disposeMixtureVae(model: MixtureVae): void {
  model.encoder.dispose();
  model.decoder.dispose();
  tf.dispose([model.priorMeans, model.priorLogVars, model.priorLogits]);
}
