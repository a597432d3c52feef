/**
 * Tensor building blocks that more than one model family uses (the GPT in lm/, the 2D Matryoshka
 * encoder in models/), written once here below both. Plain tfjs ops, differentiable by tfjs'
 * autodiff; tfjs-layers' own LayerNormalization and 'gelu_new' activation compute the same but
 * cost about ten times as much per training step on the wasm backend.
 */
import { tf } from './tf.js';

/** Layer norm over the last axis: (x − mean) / √(var + eps) · w + b (population variance, as PyTorch's). */
export function layerNorm(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b) as tf.Tensor2D;
}

/** GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  const c = Math.sqrt(2 / Math.PI);
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), c);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1)) as tf.Tensor2D;
}
