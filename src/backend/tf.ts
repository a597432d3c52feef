/**
 * The one copy of TensorFlow.js that nestlab and its users share.
 *
 * Import `tf` from here (or from 'nestlab'), never a second copy of tfjs-core: two copies keep
 * two engines, and tensors from one are unknown to the other.
 */
import * as tf from '@tensorflow/tfjs';

// No "Hi, looks like you are running TensorFlow.js in Node.js ... install our node backend"
// banner. tfjs-backend-cpu prints it on the first tensor it stores in Node (MathBackendCPU.write,
// when the IS_NODE flag is on) through tfjs-core's warn(), which is silent while the PROD flag is
// on. PROD is the documented switch (tf.enableProdMode()) and the narrowest flag that reaches the
// banner: in tfjs 4.22 only warn() and log() read it (no check, kernel or numeric path does), so
// results are unchanged. IS_NODE would change how tfjs loads its platform and the wasm binary;
// IS_TEST is tfjs' own test switch. Set here, where nestlab's one tfjs is loaded, because code can
// store tensors on the cpu backend before initBackend runs (danfo.js DataFrames, computeRdm).
// PROD also mutes tfjs' other warn() lines: a kernel or backend registered twice, and why a
// backend failed to initialize, which select.ts's setTfBackend lets through (PROD off meanwhile).
tf.enableProdMode();

export { tf };
