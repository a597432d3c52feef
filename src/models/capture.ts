/**
 * Activations at named nodes of any tfjs model: the layers of a LayersModel (`tf.sequential`,
 * `tf.model`, a Keras conversion) or the nodes of a GraphModel (a TF SavedModel conversion, e.g.
 * the MobileNet that nsfwjs ships), in one forward pass, each flattened to a [batch, features]
 * Matrix: rows = inputs, as the rest of nestlab expects.
 */
import { tf } from '../backend/tf.js';
import type { Matrix } from '../data/matrix.js';
import { NestlabArgumentError } from '../errors.js';

/** A tfjs LayersModel or GraphModel. */
export type TfModel = tf.LayersModel | tf.GraphModel;

function toMatrix(t: tf.Tensor): Matrix {
  const rows = t.shape[0] ?? 1;
  const data = t.dataSync() as Float32Array;
  return { data: data instanceof Float32Array ? data : Float32Array.from(data), rows, cols: rows === 0 ? 0 : data.length / rows };
}

/**
 * The outputs of the nodes `names` of `model` on `input` (a batch), one [batch, features] Matrix
 * per name: a LayersModel's layer names (`model.layers[i].name`), a GraphModel's node names
 * (`Object.keys(model.modelSignature)`, or its `executor.graph.nodes`' names).
 *
 * @example const acts = await models.captureLayers(net, x, ['dense_1', 'dense_2']); // Map name → Matrix [x.shape[0], units]
 */
export async function captureLayers(model: TfModel, input: tf.Tensor, names: readonly string[]): Promise<Map<string, Matrix>> {
  const where = 'models.captureLayers';
  if (!Array.isArray(names) || names.length === 0) throw new NestlabArgumentError(where, 'names', 'a non-empty array of node names', names);
  let outputs: tf.Tensor[];
  if (model instanceof tf.LayersModel) {
    const layers = names.map((n) => {
      try {
        return model.getLayer(n);
      } catch {
        throw new NestlabArgumentError(where, 'names', `layer names of the model (${model.layers.map((l) => l.name).slice(0, 6).join(', ')}, …)`, n);
      }
    });
    const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
    const out = probe.predict(input);
    outputs = Array.isArray(out) ? out : [out];
  } else if (model instanceof tf.GraphModel) {
    try {
      const out = await model.executeAsync(input, [...names]);
      outputs = Array.isArray(out) ? out : [out];
    } catch (e) {
      throw new NestlabArgumentError(where, 'names', 'node names of the graph', `${names.join(', ')} (${(e as Error).message.split('\n')[0]})`);
    }
  } else {
    throw new NestlabArgumentError(where, 'model', 'a tf.LayersModel or tf.GraphModel', model);
  }
  const result = new Map<string, Matrix>();
  names.forEach((n, i) => result.set(n, toMatrix(outputs[i])));
  for (const t of outputs) t.dispose();
  return result;
}
