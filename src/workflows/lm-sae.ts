/**
 * An SAE judged inside the language model: each prefix's reconstruction is spliced into the
 * forward pass at the SAE's hook, and the next-token loss it leaves is compared with the clean
 * model's and with zero ablation's, as SAELens's evaluations do (sae_lens/evals.py,
 * `get_recons_loss`, `_kl`; docs/methods/lm-sae.md):
 *
 *   CE loss score (recovered) = (CE_zero − CE_spliced) / (CE_zero − CE_clean)
 *   KL_spliced = mean_tokens Σ_v p_clean(v) · (log p_clean(v) − log p_spliced(v))
 *   KL score = (KL_zero − KL_spliced) / KL_zero
 *
 * with FVU, L0 and dead latents of the same rows (sae.evaluate). An identity splice scores 1, a
 * zero splice 0.
 */
import { initBackend } from '../backend/select.js';
import { tf } from '../backend/tf.js';
import { eventLoopYielder } from '../backend/yield.js';
import type { Progress } from '../backend/progress.js';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { concatCodes, encodeCode, decodeSae, truncateCode, type Sae, type SparseCode } from '../sae/model.js';
import { evaluateSae, type PrefixMetrics } from '../sae/metrics.js';
import { lmForward, type Lm, type LmHook } from '../lm/model.js';
import type { TokenBatch } from '../lm/train.js';
import { checkHooks } from '../lm/capture.js';

/** One prefix of an SAE spliced into the LM. */
export interface SplicedPrefixRow extends PrefixMetrics {
  /** The hook the SAE reads and is spliced into. */
  hook: string;
  /** Mean next-token cross-entropy (nats) of the clean model on the same tokens. */
  ceClean: number;
  /** … with the activation at the hook replaced by this prefix's reconstruction. */
  ceSpliced: number;
  /** … with the activation at the hook replaced by zeros. */
  ceZeroAblation: number;
  /** (CE_zero − CE_spliced) / (CE_zero − CE_clean): SAELens's ce_loss_score. */
  ceLossRecovered: number;
  /** Mean KL(clean ‖ spliced) over tokens (nats): SAELens's kl_div_with_sae. */
  klDivergence: number;
  /** Mean KL(clean ‖ zero-ablated): kl_div_with_ablation. */
  klZeroAblation: number;
  /** (KL_zero − KL_spliced) / KL_zero: kl_div_score. */
  klScore: number;
  /** Tokens evaluated. */
  tokens: number;
}

/** Options of {@link spliceEvaluation}. */
export interface SpliceEvaluationOptions {
  /** Prefixes to splice (default the SAE's own). */
  prefixes?: number[];
  /** Windows per forward pass (default 8). */
  batchSize?: number;
  progress?: Progress;
}

/** Log-softmax of each row of `logits` [N, V], in float64. */
function logSoftmaxRows(logits: Float32Array, N: number, V: number): Float64Array {
  const out = new Float64Array(N * V);
  for (let i = 0; i < N; i++) {
    const row = i * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[row + j] > max) max = logits[row + j];
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[row + j] - max);
    const lse = max + Math.log(sum);
    for (let j = 0; j < V; j++) out[row + j] = logits[row + j] - lse;
  }
  return out;
}

/** Σ over tokens of the cross-entropy and of KL(clean ‖ this), from log-probabilities. */
function lossAndKl(logp: Float64Array, clean: Float64Array, targets: Int32Array, V: number): { ce: number; kl: number } {
  let ce = 0;
  let kl = 0;
  for (let i = 0; i < targets.length; i++) {
    const row = i * V;
    ce -= logp[row + targets[i]];
    if (logp === clean) continue; // KL(clean ‖ clean) = 0: skip V exponentials per token
    for (let j = 0; j < V; j++) {
      const lc = clean[row + j];
      kl += Math.exp(lc) * (lc - logp[row + j]);
    }
  }
  return { ce, kl };
}

/**
 * Splices every prefix of `sae` into `model` at `hook` and scores it on `windows` (rows per
 * prefix, SAELens's definitions; see the module header). The SAE must read `hook`'s width.
 *
 * @example const rows = await lm.spliceEvaluation(model, saeModel, 'blocks.1.hook_resid_pre', lm.evaluationWindows(test, 64, 50));
 */
export async function spliceEvaluation(model: Lm, sae: Sae, hook: string, windows: TokenBatch, options: SpliceEvaluationOptions = {}): Promise<SplicedPrefixRow[]> {
  const where = 'lm.spliceEvaluation';
  checkKnownKeys(where, options, ['prefixes', 'batchSize', 'progress']);
  checkHooks(where, model, [hook]);
  await initBackend();
  const d = model.architecture.dModel;
  const V = model.architecture.vocabSize;
  if (sae.cfg.dIn !== d) throw new NestlabArgumentError(where, 'sae', `an SAE on width dModel = ${d}`, `dIn = ${sae.cfg.dIn}`);
  const prefixes = options.prefixes ?? sae.cfg.prefixes;
  prefixes.forEach((p, i) => checkInt(where, `options.prefixes[${i}]`, p, 1, sae.cfg.dSae));
  const chunk = checkInt(where, 'options.batchSize', options.batchSize ?? 8, 1, 1e6);
  const T = windows.inputs.length / windows.batchSize;
  const yieldNow = eventLoopYielder();
  const sums = { clean: 0, zero: 0, klZero: 0, spliced: prefixes.map(() => 0), kl: prefixes.map(() => 0) };
  const allActs = new Float32Array(windows.inputs.length * d);
  const codes: SparseCode[] = [];
  let tokens = 0;
  options.progress?.start(windows.batchSize, where);
  for (let w0 = 0; w0 < windows.batchSize; w0 += chunk) {
    const nw = Math.min(chunk, windows.batchSize - w0);
    const ids = windows.inputs.subarray(w0 * T, (w0 + nw) * T);
    const targets = windows.targets.subarray(w0 * T, (w0 + nw) * T);
    const N = nw * T;
    const logits = (hookFn?: LmHook) => {
      const l = tf.tidy(() => lmForward(model, ids, nw, { hook: hookFn }));
      const values = l.dataSync() as Float32Array;
      l.dispose();
      return logSoftmaxRows(values, N, V);
    };
    const actsT = tf.tidy(() => lmForward(model, ids, nw, { stopAt: hook }));
    const acts = { data: actsT.dataSync() as Float32Array, rows: N, cols: d };
    actsT.dispose();
    allActs.set(acts.data, w0 * T * d);
    const replaceWith = (m: Float32Array): LmHook => (name) => (name === hook ? tf.tensor2d(m, [N, d]) : undefined);
    const clean = logits();
    const cleanScores = lossAndKl(clean, clean, targets, V);
    sums.clean += cleanScores.ce;
    const zero = lossAndKl(logits(replaceWith(new Float32Array(N * d))), clean, targets, V);
    sums.zero += zero.ce;
    sums.klZero += zero.kl;
    const code = await encodeCode(where, sae, acts);
    codes.push(code);
    prefixes.forEach((p, i) => {
      const xhat = decodeSae(sae, truncateCode(code, p), { prefix: p });
      const s = lossAndKl(logits(replaceWith(xhat.data)), clean, targets, V);
      sums.spliced[i] += s.ce;
      sums.kl[i] += s.kl;
    });
    tokens += N;
    options.progress?.update(w0 + nw);
    await yieldNow();
  }
  options.progress?.stop();
  // Per-row activations (θ, TopK, ReLU) encode a row the same alone or in a batch: reuse the chunks' codes.
  const metrics = await evaluateSae(sae, { data: allActs, rows: tokens, cols: d }, { prefixes, code: concatCodes(codes, sae.cfg.dSae) });
  const ceClean = sums.clean / tokens;
  const ceZero = sums.zero / tokens;
  const klZero = sums.klZero / tokens;
  return metrics.map((m, i) => {
    const ceSpliced = sums.spliced[i] / tokens;
    const kl = sums.kl[i] / tokens;
    return {
      ...m,
      hook,
      ceClean,
      ceSpliced,
      ceZeroAblation: ceZero,
      ceLossRecovered: (ceZero - ceSpliced) / (ceZero - ceClean),
      klDivergence: kl,
      klZeroAblation: klZero,
      klScore: (klZero - kl) / klZero,
      tokens,
    };
  });
}
