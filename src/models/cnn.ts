/**
 * A small all-convolutional image classifier on tfjs-layers, after All-CNN-C (Springenberg,
 * Dosovitskiy, Brox & Riedmiller 2015, "Striving for Simplicity: The All Convolutional Net",
 * Table 2): 3x3 convolutions with ReLU, a 3x3 stride-2 convolution where a max-pool would be,
 * then 1x1 convolutions down to one channel per class and a global average over space.
 *
 * It reads flat rows of pixels, like the MLP, so `trainClassifier`, `evaluateClassifier` and
 * `layerActivations` (mlp.ts) take it unchanged.
 */
import { tf } from '../backend/tf.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';

/** Config of `models.createCnn`: the image geometry, the two stage widths, classes and seed. */
export interface CnnConfig {
  /** Image height in pixels (28 for MNIST). */
  height: number;
  /** Image width in pixels (28 for MNIST). */
  width: number;
  /** Channels per pixel (1 for MNIST, 3 for RGB). Rows are [height, width, channels] row-major. */
  channels: number;
  /** Channels of the two stages [w1, w2]; All-CNN-C uses [96, 192]. Default [16, 32]. */
  widths?: [number, number];
  /** Number of classes: the channels of the last 1x1 convolution, i.e. the logits. */
  classes: number;
  /** Seed of the weight initialization. Default 0. */
  seed?: number;
}

/**
 * The names of createCnn's layers, in order: `image` (the reshape of a flat row to
 * [height, width, channels]), `conv1`...`conv9`, `gap` (the logits).
 */
export const CNN_LAYER_NAMES = ['image', 'conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'conv6', 'conv7', 'conv8', 'conv9', 'gap'] as const;

/**
 * Builds the All-CNN-C-style classifier (Springenberg et al. 2015, Table 2, model All-CNN-C),
 * every convolution 'same'-padded, on rows of height*width*channels pixels:
 *
 * | layer | op | output (H = height, W = width) |
 * |---|---|---|
 * | image | reshape | [H, W, channels] |
 * | conv1, conv2 | 3x3 conv w1, ReLU | [H, W, w1] |
 * | conv3 | 3x3 conv w1 stride 2, ReLU (replaces max-pooling) | [⌈H/2⌉, ⌈W/2⌉, w1] |
 * | conv4, conv5 | 3x3 conv w2, ReLU | [⌈H/2⌉, ⌈W/2⌉, w2] |
 * | conv6 | 3x3 conv w2 stride 2, ReLU | [⌈H/4⌉, ⌈W/4⌉, w2] |
 * | conv7 | 3x3 conv w2, ReLU | same |
 * | conv8 | 1x1 conv w2, ReLU | same |
 * | conv9 | 1x1 conv classes, linear | [⌈H/4⌉, ⌈W/4⌉, classes] |
 * | gap | global average pooling | [classes]: the logits |
 *
 * Two departures from the paper: conv7 is 'same' rather than 'valid' (so 28x28 MNIST keeps a 7x7
 * map), and conv9 is linear (the paper's ReLU before the average would keep every logit >= 0).
 * Weights: He-uniform, U(±√(6/fan_in)) (He et al. 2015), for the ReLU layers; Glorot-uniform,
 * U(±√(6/(fan_in + fan_out))), for conv9; each seeded from `seed`; zero biases.
 *
 * @example const net = models.createCnn({ height: 28, width: 28, channels: 1, classes: 10, seed: 0 }); // layers image, conv1..conv9, gap
 */
export function createCnn(config: CnnConfig): tf.Sequential {
  const where = 'models.createCnn';
  if (typeof config !== 'object' || config === null) throw new NestlabArgumentError(where, 'config', 'an object', config);
  checkKnownKeys(where, config, ['height', 'width', 'channels', 'widths', 'classes', 'seed'], 'config');
  const height = checkInt(where, 'config.height', config.height, 1);
  const width = checkInt(where, 'config.width', config.width, 1);
  const channels = checkInt(where, 'config.channels', config.channels, 1);
  const classes = checkInt(where, 'config.classes', config.classes, 2);
  const widths = config.widths ?? [16, 32];
  if (!Array.isArray(widths) || widths.length !== 2) throw new NestlabArgumentError(where, 'config.widths', 'an array of two stage widths [w1, w2]', widths);
  widths.forEach((w, i) => checkInt(where, `config.widths[${i}]`, w, 1));
  const rng = new Rng(checkInt(where, 'config.seed', config.seed ?? 0));
  const [w1, w2] = widths;
  // [filters, kernel size, stride] of conv1..conv9.
  const convs: [number, number, number][] = [
    [w1, 3, 1], [w1, 3, 1], [w1, 3, 2],
    [w2, 3, 1], [w2, 3, 1], [w2, 3, 2],
    [w2, 3, 1], [w2, 1, 1], [classes, 1, 1],
  ];
  const model = tf.sequential();
  model.add(tf.layers.reshape({ targetShape: [height, width, channels], inputShape: [height * width * channels], name: 'image' }));
  convs.forEach(([filters, kernelSize, stride], i) => {
    const last = i === convs.length - 1;
    const seed = rng.nextUint32();
    model.add(
      tf.layers.conv2d({
        filters,
        kernelSize,
        strides: stride,
        padding: 'same',
        activation: last ? 'linear' : 'relu',
        kernelInitializer: last ? tf.initializers.glorotUniform({ seed }) : tf.initializers.heUniform({ seed }),
        biasInitializer: 'zeros',
        name: `conv${i + 1}`,
      }),
    );
  });
  model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  return model;
}
