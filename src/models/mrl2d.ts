/**
 * 2D Matryoshka embeddings: an encoder nested in depth and in width at once, trained either with
 * Starbucks' fixed list of (layer, dim) pairs (Zhuang et al. 2024, arXiv:2410.13230; ielab/Starbucks
 * `sts/starbucks_loss.py`) or with 2DMSE's random sampling of a layer and a dim per step
 * (Li et al. 2024, arXiv:2402.14776, as coded in UKPLab/sentence-transformers
 * `losses/Matryoshka2dLoss.py` = `AdaptiveLayerLoss` around `MatryoshkaLoss`); docs/methods/mrl-2d.md.
 *
 * The depth axis is a stack of pre-LN residual MLP blocks on fixed input features (a trainable depth
 * on a frozen model's representations, docs/methods/mrl-2d.md §1):
 *   h_0 = x W_in + b_in,   h_l = h_{l−1} + W_2 · GELU(W_1 · LN(h_{l−1}) + b_1) + b_2   (l = 1..L),
 * and the embedding at cell (l, m) is the raw prefix h_l[:, :m] (no final norm, so a prefix does
 * not depend on the dims after it). Each layer has one linear head sliced to the prefix (MRL-E's
 * tying, Kusupati et al. 2022): logits(l, m) = h_l[:, :m] K_l[:m] + c_l.
 *
 * The blocks are plain tfjs ops on variables (backend/nn-ops.ts: layer norm, GPT-2's GELU):
 * tfjs-layers' layers compute the same at about ten times the cost per step. The losses and the
 * pair sampling are written here because no npm package has them.
 */
import { tf } from '../backend/tf.js';
import { gelu, layerNorm } from '../backend/nn-ops.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkLabels, checkNumber, checkOneOf } from '../errors.js';
import { checkModelInput, type Matrix } from '../data/matrix.js';
import { fitMinibatches, mapRowBatches, type EpochRecord, type FitOptions } from './fit.js';
import { defaultNesting } from './mrl.js';

/** How a 2D Matryoshka model is trained (docs/methods/mrl-2d.md §2–§4). */
export const MRL2D_LOSSES = ['starbucks', '2dmse', 'single'] as const;
/** One of {@link MRL2D_LOSSES}. */
export type Mrl2dLossKind = (typeof MRL2D_LOSSES)[number];

/** A cell of the (layer, dim) grid: layer 1..L (blocks applied), dim = the prefix's width. */
export type Mrl2dPair = [layer: number, dim: number];

/** Config of `mrl.create2d`: sizes of the encoder, its nesting sizes and how it is trained. */
export interface Mrl2dConfig {
  /** Input width (the frozen features' width). */
  inputDim: number;
  /** Width D of the residual stream (and the largest embedding). */
  width: number;
  /** Hidden width of each block's MLP. Default 2 · width. */
  hidden?: number;
  /** Number of residual blocks L (the depth axis). */
  layers: number;
  /** Nesting sizes (the width axis), strictly increasing in [1, width]. Default {2, 4, ...} up to width. */
  dims?: number[];
  /** Number of classes of every head. */
  classes: number;
  /** 'starbucks' (the fixed pair list), '2dmse' (random layer and dims per step) or 'single' (one pair). */
  loss: Mrl2dLossKind;
  /**
   * 'starbucks': the pair list, every pair's loss every step (default: the diagonal from small to
   * large ending at (layers, width), {@link defaultStarbucksPairs}); 'single': the one pair, whose
   * layer must be `layers` (default [[layers, width]]). Not used by '2dmse'.
   */
  pairs?: Mrl2dPair[];
  /** Temperature T of the KL terms (sentence-transformers' kl_temperature). Default 0.3. */
  klTemperature?: number;
  /** Weight of the KL terms (kl_div_weight). Default 1 for '2dmse', 0 for 'starbucks' (see docs/methods/mrl-2d.md §3). */
  klWeight?: number;
  /** '2dmse': prior layers drawn per step (n_layers_per_step). Default 1. */
  randomLayerCount?: number;
  /** '2dmse': dims drawn per layer and step (n_dims_per_step). Default 1. */
  randomPrefixCount?: number;
  /** '2dmse': weight of the last layer's loss. Default 1. */
  lastLayerWeight?: number;
  /** '2dmse': weight of the prior layers' losses (each also divided by its layer index). Default 1. */
  priorLayersWeight?: number;
  /** Seed of the initialization. Default 0. */
  seed?: number;
}

/** A 2D Matryoshka model: input projection, residual blocks, one head per layer, and its config. */
export interface Mrl2dModel {
  /** The config with its defaults filled in. */
  config: Required<Mrl2dConfig>;
  /** x → h_0 = x W_in + b_in: W_in ∈ ℝ^{inputDim × width}, b_in. */
  input: { kernel: tf.Variable; bias: tf.Variable };
  /** The residual branch of each block, h ↦ GELU(LN(h) W_1 + b_1) W_2 + b_2 (LN with gain and bias). */
  blocks: Mrl2dBlock[];
  /** Per layer l = 1..L (index l − 1): the head kernel K_l ∈ ℝ^{width × classes}. */
  headKernels: tf.Variable[];
  /** Per layer: the head bias c_l ∈ ℝ^{classes}. */
  headBiases: tf.Variable[];
}

/** The weights of one residual block. */
export interface Mrl2dBlock {
  lnGain: tf.Variable;
  lnBias: tf.Variable;
  kernel1: tf.Variable;
  bias1: tf.Variable;
  kernel2: tf.Variable;
  bias2: tf.Variable;
}

/** One term of a step's loss: a cross-entropy at (layer, dim), or a KL of (layer, dim) to (L, dim), with its weight. */
export interface Mrl2dTerm {
  layer: number;
  dim: number;
  weight: number;
}

/** The loss terms of one training step (fixed for 'starbucks' and 'single', drawn for '2dmse'). */
export interface Mrl2dStep {
  /** Cross-entropy terms CE(logits(layer, dim), y). */
  ce: Mrl2dTerm[];
  /** KL terms T · KL(softmax(logits(L, dim) / T) ‖ softmax(logits(layer, dim) / T)). */
  kl: Mrl2dTerm[];
}

/**
 * Starbucks' default pair list for L layers and the nesting sizes: k = min(L, |dims|) pairs, the
 * j-th at layer round(j·L/k) and the j-th of the k largest dims, so both grow together and the
 * list ends at (L, largest dim): for 12 layers and [32, ..., 768] it is Starbucks' own
 * [(2,32), (4,64), (6,128), (8,256), (10,512), (12,768)].
 *
 * @example const pairs = mrl.defaultStarbucksPairs(4, [8, 16, 32, 64, 128]); // [[1, 16], [2, 32], [3, 64], [4, 128]]
 */
export function defaultStarbucksPairs(layers: number, dims: number[]): Mrl2dPair[] {
  const k = Math.min(layers, dims.length);
  return Array.from({ length: k }, (_, j): Mrl2dPair => [Math.round(((j + 1) * layers) / k), dims[dims.length - k + j]]);
}

function resolveConfig(config: Mrl2dConfig): Required<Mrl2dConfig> {
  const where = 'mrl.create2d';
  checkKnownKeys(where, config, ['inputDim', 'width', 'hidden', 'layers', 'dims', 'classes', 'loss', 'pairs', 'klTemperature', 'klWeight', 'randomLayerCount', 'randomPrefixCount', 'lastLayerWeight', 'priorLayersWeight', 'seed'], 'config');
  checkInt(where, 'config.inputDim', config.inputDim, 1);
  const width = checkInt(where, 'config.width', config.width, 1);
  const hidden = checkInt(where, 'config.hidden', config.hidden ?? 2 * width, 1);
  const layers = checkInt(where, 'config.layers', config.layers, 1);
  checkInt(where, 'config.classes', config.classes, 2);
  const loss = checkOneOf(where, 'config.loss', config.loss, MRL2D_LOSSES);
  const dims = config.dims ?? defaultNesting(width);
  if (!Array.isArray(dims) || dims.length === 0) throw new NestlabArgumentError(where, 'config.dims', 'a non-empty array of sizes', dims);
  dims.forEach((m, i) => {
    checkInt(where, `config.dims[${i}]`, m, 1, width);
    if (i > 0 && m <= dims[i - 1]) throw new NestlabArgumentError(where, 'config.dims', 'strictly increasing sizes', `[${dims}]`);
  });
  let pairs: Mrl2dPair[] = [];
  if (loss === 'starbucks') pairs = config.pairs ?? defaultStarbucksPairs(layers, dims);
  if (loss === 'single') pairs = config.pairs ?? [[layers, dims[dims.length - 1]]];
  if (loss === '2dmse' && config.pairs !== undefined) throw new NestlabArgumentError(where, 'config.pairs', "absent for loss '2dmse' (it draws its pairs)", config.pairs);
  if (!Array.isArray(pairs) || (loss !== '2dmse' && pairs.length === 0)) throw new NestlabArgumentError(where, 'config.pairs', 'a non-empty array of [layer, dim] pairs', pairs);
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2) throw new NestlabArgumentError(where, `config.pairs[${i}]`, 'a [layer, dim] pair', p);
    checkInt(where, `config.pairs[${i}][0]`, p[0], 1, layers);
    if (!dims.includes(p[1])) throw new NestlabArgumentError(where, `config.pairs[${i}][1]`, `one of config.dims [${dims}]`, p[1]);
  });
  if (loss === 'single' && (pairs.length !== 1 || pairs[0][0] !== layers)) {
    throw new NestlabArgumentError(where, 'config.pairs', `one pair at layer config.layers = ${layers} for loss 'single' (a model of that depth)`, `[${pairs.map((p) => `[${p}]`)}]`);
  }
  return {
    inputDim: config.inputDim,
    width,
    hidden,
    layers,
    dims: [...dims],
    classes: config.classes,
    loss,
    pairs: pairs.map((p): Mrl2dPair => [p[0], p[1]]),
    klTemperature: checkNumber(where, 'config.klTemperature', config.klTemperature ?? 0.3, 1e-6),
    klWeight: checkNumber(where, 'config.klWeight', config.klWeight ?? (loss === '2dmse' ? 1 : 0), 0),
    randomLayerCount: checkInt(where, 'config.randomLayerCount', config.randomLayerCount ?? 1, 1),
    randomPrefixCount: checkInt(where, 'config.randomPrefixCount', config.randomPrefixCount ?? 1, 1, dims.length),
    lastLayerWeight: checkNumber(where, 'config.lastLayerWeight', config.lastLayerWeight ?? 1, 0),
    priorLayersWeight: checkNumber(where, 'config.priorLayersWeight', config.priorLayersWeight ?? 1, 0),
    seed: checkInt(where, 'config.seed', config.seed ?? 0),
  };
}

/**
 * Builds a 2D Matryoshka model with seeded Glorot-uniform kernels, zero biases and unit layer-norm
 * gains: h_0 = x W_in + b_in, L pre-LN residual GELU blocks of width D, and one head per layer
 * read on the prefix h_l[:, :m] (docs/methods/mrl-2d.md §1).
 *
 * @example const model = mrl.create2d({ inputDim: 128, width: 128, layers: 4, dims: [8, 16, 32, 64, 128], classes: 15, loss: 'starbucks', seed: 0 });
 */
export function createMrl2d(config: Mrl2dConfig): Mrl2dModel {
  const cfg = resolveConfig(config);
  const rng = new Rng(cfg.seed);
  // tidy frees the initial values; the variables themselves survive it.
  const glorot = (rows: number, cols: number) => tf.tidy(() => tf.variable(tf.initializers.glorotUniform({ seed: rng.nextUint32() }).apply([rows, cols]) as tf.Tensor2D, true));
  const constant = (n: number, v: number) => tf.tidy(() => tf.variable(tf.fill([n], v), true));
  const input = { kernel: glorot(cfg.inputDim, cfg.width), bias: constant(cfg.width, 0) };
  const blocks = Array.from({ length: cfg.layers }, (): Mrl2dBlock => ({
    lnGain: constant(cfg.width, 1),
    lnBias: constant(cfg.width, 0),
    kernel1: glorot(cfg.width, cfg.hidden),
    bias1: constant(cfg.hidden, 0),
    kernel2: glorot(cfg.hidden, cfg.width),
    bias2: constant(cfg.width, 0),
  }));
  const headKernels = blocks.map(() => glorot(cfg.width, cfg.classes));
  const headBiases = blocks.map(() => constant(cfg.classes, 0));
  return { config: cfg, input, blocks, headKernels, headBiases };
}

/** h_1 .. h_upTo for a batch x (index l − 1 holds h_l). */
export function mrl2dHidden(model: Mrl2dModel, x: tf.Tensor2D, upTo: number = model.config.layers): tf.Tensor2D[] {
  let h = tf.add(tf.matMul(x, model.input.kernel), model.input.bias) as tf.Tensor2D;
  const out: tf.Tensor2D[] = [];
  for (let l = 0; l < upTo; l++) {
    const b = model.blocks[l];
    const inner = gelu(tf.add(tf.matMul(layerNorm(h, b.lnGain, b.lnBias, 1e-5), b.kernel1), b.bias1) as tf.Tensor2D);
    h = tf.add(h, tf.add(tf.matMul(inner, b.kernel2), b.bias2)) as tf.Tensor2D;
    out.push(h);
  }
  return out;
}

/** logits(l, m) = h_l[:, :m] K_l[:m] + c_l. */
export function mrl2dLogits(model: Mrl2dModel, h: tf.Tensor2D, layer: number, dim: number): tf.Tensor2D {
  const prefix = dim === h.shape[1] ? h : tf.slice(h, [0, 0], [-1, dim]);
  const kernel = dim === model.config.width ? model.headKernels[layer - 1] : tf.slice(model.headKernels[layer - 1], [0, 0], [dim, -1]);
  return tf.add(tf.matMul(prefix, kernel), model.headBiases[layer - 1]) as tf.Tensor2D;
}

/** `count` distinct draws from `items` in their original order (random.sample, then sorted as MatryoshkaLoss sorts). */
function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  const idx = Array.from(rng.permutation(items.length).subarray(0, count)).sort((a, b) => a - b);
  return idx.map((i) => items[i]);
}

/**
 * The terms of one step (docs/methods/mrl-2d.md §2–§3):
 * - 'starbucks': every pair (l, m) of the list, CE weight 1/|S|, and for l < L a KL to (L, m) of weight klWeight·T/|S|
 *   (the code's sum over pairs divided by |S|);
 * - '2dmse': the last layer at `randomPrefixCount` drawn dims (weight lastLayerWeight each); then
 *   `randomLayerCount` drawn layers l < L, each at its own drawn dims with weight
 *   priorLayersWeight / (l · layers drawn), and a KL of (l, D) to (L, D) of weight klWeight·T;
 * - 'single': its pair, weight 1.
 */
function stepTerms(cfg: Required<Mrl2dConfig>, rng: Rng): Mrl2dStep {
  const L = cfg.layers;
  const D = cfg.width;
  const T = cfg.klTemperature;
  if (cfg.loss === 'single') return { ce: [{ layer: cfg.pairs[0][0], dim: cfg.pairs[0][1], weight: 1 }], kl: [] };
  if (cfg.loss === 'starbucks') {
    const n = cfg.pairs.length;
    return {
      ce: cfg.pairs.map(([layer, dim]) => ({ layer, dim, weight: 1 / n })),
      kl: cfg.klWeight > 0 ? cfg.pairs.filter(([layer]) => layer < L).map(([layer, dim]) => ({ layer, dim, weight: (cfg.klWeight * T) / n })) : [],
    };
  }
  const ce: Mrl2dTerm[] = sample(rng, cfg.dims, cfg.randomPrefixCount).map((dim) => ({ layer: L, dim, weight: cfg.lastLayerWeight }));
  const kl: Mrl2dTerm[] = [];
  const prior = sample(rng, Array.from({ length: L - 1 }, (_, i) => i + 1), cfg.randomLayerCount);
  for (const layer of prior) {
    for (const dim of sample(rng, cfg.dims, cfg.randomPrefixCount)) ce.push({ layer, dim, weight: cfg.priorLayersWeight / layer / prior.length });
    if (cfg.klWeight > 0) kl.push({ layer, dim: D, weight: cfg.klWeight * T });
  }
  return { ce, kl };
}

/** The generator of a training run's draws: forked from Rng(seed), so it shares nothing with the batch order's stream. */
function drawRng(seed: number): Rng {
  return new Rng(seed).fork();
}

/**
 * The loss terms of the first `steps` training steps of `mrl.train2d` with `options.seed` = seed:
 * the same list the trainer uses, one entry per minibatch in order (fixed for 'starbucks' and
 * 'single'; for '2dmse' the last layer at `randomPrefixCount` random dims plus `randomLayerCount`
 * random prior layers, each at random dims, as sentence-transformers' Matryoshka2dLoss draws them).
 *
 * @example const steps = mrl.schedule2d(model.config, 100, 0); // steps[t].ce: [{ layer, dim, weight }], steps[t].kl
 */
export function mrl2dSchedule(config: Mrl2dConfig, steps: number, seed = 0): Mrl2dStep[] {
  const cfg = resolveConfig(config);
  checkInt('mrl.schedule2d', 'steps', steps, 0);
  const rng = drawRng(checkInt('mrl.schedule2d', 'seed', seed));
  return Array.from({ length: steps }, () => stepTerms(cfg, rng));
}

/** KL(p ‖ q) averaged over rows ('batchmean'), p = softmax(target / T), q = softmax(student / T). */
function klBatchMean(target: tf.Tensor2D, student: tf.Tensor2D, T: number): tf.Scalar {
  const logP = tf.logSoftmax(tf.div(target, T));
  const logQ = tf.logSoftmax(tf.div(student, T));
  return tf.div(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ))), target.shape[0]) as tf.Scalar;
}

/**
 * The loss of one batch for a step's terms: Σ_ce w · CE(logits(l, m), y) + Σ_kl w · KL(softmax(logits(L, m)/T) ‖ softmax(logits(l, m)/T)),
 * CE averaged over the batch, KL summed over classes and averaged over rows (PyTorch's 'batchmean').
 * The KL's target is not detached, as in sentence-transformers.
 */
export function mrl2dBatchLoss(model: Mrl2dModel, x: tf.Tensor2D, y: tf.Tensor1D, step: Mrl2dStep): tf.Scalar {
  const terms = [...step.ce, ...step.kl];
  const upTo = Math.max(...terms.map((t) => t.layer), step.kl.length > 0 ? model.config.layers : 1);
  const h = mrl2dHidden(model, x, upTo);
  const onehot = tf.oneHot(y, model.config.classes);
  const parts: tf.Scalar[] = step.ce.map((t) => tf.mul(tf.losses.softmaxCrossEntropy(onehot, mrl2dLogits(model, h[t.layer - 1], t.layer, t.dim)), t.weight) as tf.Scalar);
  for (const t of step.kl) {
    const target = mrl2dLogits(model, h[model.config.layers - 1], model.config.layers, t.dim);
    parts.push(tf.mul(klBatchMean(target, mrl2dLogits(model, h[t.layer - 1], t.layer, t.dim), model.config.klTemperature), t.weight) as tf.Scalar);
  }
  return tf.addN(parts) as tf.Scalar;
}

/** Options of `mrl.train2d` (epochs default 10). */
export type Mrl2dTrainOptions = FitOptions;

/**
 * Trains a 2D Matryoshka model by minibatch Adam (the fit loop of every nestlab model) on the
 * loss of its `config.loss`: Starbucks' fixed pairs (mean of their cross-entropies), 2DMSE's
 * drawn layer and dims with the KL to the last layer (sentence-transformers' Matryoshka2dLoss
 * recipe on class predictions), or one pair ('single'); the step's terms are `mrl.schedule2d`'s
 * (docs/methods/mrl-2d.md §2–§4). Returns the mean loss per epoch.
 *
 * @example const history = await mrl.train2d(model, train.x, train.y, { epochs: 20, seed: 0 }); // [{ epoch, loss }]
 */
export async function trainMrl2d(model: Mrl2dModel, x: Matrix, y: Int32Array, options: Mrl2dTrainOptions = {}): Promise<EpochRecord[]> {
  const where = 'mrl.train2d';
  checkModelInput(where, x, model.config.inputDim);
  checkLabels(where, y, x.rows, model.config.classes);
  const cfg = model.config;
  const rng = drawRng(checkInt(where, 'options.seed', options.seed ?? 0));
  // Only what a step can reach is optimized: blocks past the deepest trained layer and heads of
  // untrained layers keep their initial values (Adam skips a variable a step leaves untouched).
  const reach = cfg.loss === '2dmse' ? cfg.layers : Math.max(...cfg.pairs.map((p) => p[0]), cfg.klWeight > 0 ? cfg.layers : 1);
  const headLayers = cfg.loss === '2dmse' ? Array.from({ length: cfg.layers }, (_, i) => i + 1) : [...new Set([...cfg.pairs.map((p) => p[0]), ...(cfg.klWeight > 0 ? [cfg.layers] : [])])];
  const variables = [
    model.input.kernel,
    model.input.bias,
    ...model.blocks.slice(0, reach).flatMap((b) => [b.lnGain, b.lnBias, b.kernel1, b.bias1, b.kernel2, b.bias2]),
    ...headLayers.flatMap((l) => [model.headKernels[l - 1], model.headBiases[l - 1]]),
  ];
  return fitMinibatches(where, x, y, (xb, yb) => ({ loss: mrl2dBatchLoss(model, xb, yb, stepTerms(cfg, rng)) }), options, { epochs: 10 }, variables);
}

function checkCell(where: string, model: Mrl2dModel, layer: unknown, dim: unknown, argument = ''): void {
  checkInt(where, `${argument}layer`, layer, 1, model.config.layers);
  checkInt(where, `${argument}dim`, dim, 1, model.config.width);
}

/**
 * The embedding at cell (layer, dim): h_layer[:, :dim], the residual stream after `layer` blocks cut
 * to its first `dim` dims (no final norm), `options.batchSize` rows at a time (default 2048).
 *
 * @example const z = await mrl.embed2d(model, test.x, 2, 32); // Matrix [test.x.rows, 32]
 */
export async function mrl2dEmbed(model: Mrl2dModel, x: Matrix, layer: number, dim: number, options: { batchSize?: number } = {}): Promise<Matrix> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'mrl.embed2d';
  checkKnownKeys(where, options, ['batchSize']);
  checkModelInput(where, x, model.config.inputDim);
  checkCell(where, model, layer, dim);
  const batchSize = checkInt(where, 'options.batchSize', options.batchSize ?? 2048, 1);
  return mapRowBatches(x, batchSize, dim, (xb) => {
    const h = mrl2dHidden(model, xb, layer)[layer - 1];
    return dim === model.config.width ? h : tf.slice(h, [0, 0], [-1, dim]);
  });
}

/**
 * Test accuracy of each cell's head: accuracy(l, m) = mean_i 1[argmax(h_l,i[:m] K_l[:m] + c_l) = y_i],
 * for `options.cells` (default: every layer × every config dim; a 'single' model: its pair).
 *
 * @example const acc = await mrl.accuracy2d(model, test.x, test.y); // [{ layer: 1, dim: 8, accuracy }, …]
 */
export async function mrl2dAccuracy(model: Mrl2dModel, x: Matrix, y: Int32Array, options: { cells?: Mrl2dPair[] } = {}): Promise<{ layer: number; dim: number; accuracy: number }[]> {
  await initBackend();
  const where = 'mrl.accuracy2d';
  checkKnownKeys(where, options, ['cells']);
  checkModelInput(where, x, model.config.inputDim);
  checkLabels(where, y, x.rows, model.config.classes);
  const cfg = model.config;
  const cells = options.cells ?? (cfg.loss === 'single' ? cfg.pairs : Array.from({ length: cfg.layers }, (_, l) => cfg.dims.map((m): Mrl2dPair => [l + 1, m])).flat());
  if (!Array.isArray(cells)) throw new NestlabArgumentError(where, 'options.cells', 'an array of [layer, dim] pairs', cells);
  cells.forEach((c, i) => checkCell(where, model, c?.[0], c?.[1], `options.cells[${i}].`));
  const deepest = Math.max(...cells.map((c) => c[0]));
  const hits = new Array<number>(cells.length).fill(0);
  for (let start = 0; start < x.rows; start += 2048) {
    const end = Math.min(start + 2048, x.rows);
    const preds = tf.tidy(() => {
      const h = mrl2dHidden(model, tf.tensor2d(x.data.subarray(start * x.cols, end * x.cols), [end - start, x.cols]), deepest);
      return cells.map(([l, m]) => tf.argMax(mrl2dLogits(model, h[l - 1], l, m), 1));
    });
    for (let c = 0; c < cells.length; c++) {
      const p = (await preds[c].data()) as Int32Array;
      for (let r = 0; r < p.length; r++) if (p[r] === y[start + r]) hits[c]++;
    }
    tf.dispose(preds);
  }
  return cells.map(([layer, dim], c) => ({ layer, dim, accuracy: hits[c] / x.rows }));
}

/**
 * Frees the model's weights (tfjs variables); call it when the model is no
 * longer needed, as tfjs does not garbage-collect tensors.
 *
 * @example mrl.dispose2d(model); // model is unusable afterwards
 */
export function disposeMrl2d(model: Mrl2dModel): void {
  tf.dispose([model.input.kernel, model.input.bias, ...model.blocks.flatMap((b) => Object.values(b)), ...model.headKernels, ...model.headBiases]);
}
