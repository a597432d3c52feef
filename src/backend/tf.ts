/**
 * The one copy of TensorFlow.js that nestlab and its users share.
 *
 * Import `tf` from here (or from 'nestlab'), never a second copy of tfjs-core: two copies keep
 * two engines, and tensors from one are unknown to the other.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
