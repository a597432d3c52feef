// Run by webgpu.test.ts in a child process (it sets navigator.gpu globally): the same numeric
// cores on the webgpu backend and on the cpu reference, printed as max abs differences (JSON).
import { tf } from '../../src/backend/tf.js';
import { selectBackend } from '../../src/backend/select.js';

async function onBackend(name: 'webgpu' | 'cpu'): Promise<Record<string, Float32Array>> {
  await selectBackend(name);
  const out: Record<string, Float32Array> = {};
  const a = tf.randomNormal([128, 96], 0, 1, 'float32', 1);
  const b = tf.randomNormal([96, 64], 0, 1, 'float32', 2);
  out.matMul = (await tf.matMul(a, b).data()) as Float32Array;
  // squared Euclidean distances as one matMul: |x|^2 + |y|^2 - 2 x.y (the RDM hot path)
  const sq = tf.sum(tf.square(a), 1, true);
  out.sqDist = (await tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(a, a, false, true)))).data()) as Float32Array;
  // gradient of a small MLP loss (the training hot path)
  const w = tf.variable(tf.randomNormal([96, 10], 0, 0.1, 'float32', 3));
  const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.relu(tf.matMul(a, w)))) as tf.Scalar, [w]);
  out.grad = (await grads[w.name].data()) as Float32Array;
  const { values, indices } = tf.topk(tf.matMul(a, b), 8);
  out.topkValues = (await values.data()) as Float32Array;
  out.topkIndices = Float32Array.from((await indices.data()) as Int32Array);
  tf.disposeVariables();
  return out;
}

let web: Record<string, Float32Array>;
try {
  web = await onBackend('webgpu');
} catch (e) {
  console.log(JSON.stringify({ adapter: false, reason: (e as Error).message }));
  process.exit(0);
}
const ref = await onBackend('cpu');
const diffs: Record<string, number> = {};
for (const k of Object.keys(ref)) {
  let m = 0;
  for (let i = 0; i < ref[k].length; i++) m = Math.max(m, Math.abs(ref[k][i] - web[k][i]));
  diffs[k] = m;
}
console.log(JSON.stringify({ adapter: true, diffs }));
process.exit(0);
