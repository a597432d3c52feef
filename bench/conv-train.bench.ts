/**
 * Benchmark `conv-train`: images/s of one training step (forward, softmax cross-entropy,
 * backward, Adam) of models.createCnn's default net (All-CNN-C-style, widths [16, 32], MNIST
 * 28x28x1, batch 128) against the same net and step in PyTorch on the CPU
 * (bench/peers/conv_torch.py, as many threads as cores), on the same MNIST batch.
 *
 * The machine these numbers come from is shared, and its load swings from step to step, so the
 * steps are interleaved: ours, PyTorch's, PyTorch on one thread, in rotating order, each peer a
 * server process answering one step per request. Every side then ran under the same load; the
 * 1-minute load average is recorded with the result. Also where our step's time goes: the
 * convolution kernels of src/backend/wasm-conv.ts (forward, input gradient, filter gradient, and
 * of those the copies: im2col, col2im, padding, cropping), and the rest of the step (bias adds,
 * ReLU and its gradient, the bias gradients' sums, the loss, Adam on tfjs), in ms per step.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tf } from '../src/backend/tf.js';
import { initBackend } from '../src/backend/select.js';
import { convTimings, resetConvTimings, wasmConvKernel } from '../src/backend/wasm-conv.js';
import { loadMnist } from '../src/data/mnist.js';
import { createCnn } from '../src/models/cnn.js';
import { BENCH_DIR, PEER_PYTHON, type Benchmark, type BenchRecord, peakRssMiB } from './lib.js';

const B = 128;
const WIDTHS: [number, number] = [16, 32];
const STEPS = Number(process.env.NESTLAB_BENCH_STEPS ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** A peer script serving one timed step per request (conv_torch.py with "serve"). */
interface Server {
  name: string;
  /** Runs one 'step' or 'forward' there; resolves with its seconds. */
  run(cmd: 'step' | 'forward'): Promise<number>;
  /** Ends it; resolves with its summary line. */
  close(): Promise<Record<string, number | string>>;
}

async function startServer(name: string, options: Record<string, unknown>): Promise<Server> {
  const child: ChildProcessWithoutNullStreams = spawn(PEER_PYTHON, [join(BENCH_DIR, 'peers', 'conv_torch.py'), JSON.stringify({ ...options, serve: true })]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`${name} ended: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    return r.value;
  };
  const first = await next();
  if (first !== 'ready') throw new Error(`${name} said ${first.slice(0, 200)}`);
  return {
    name,
    async run(cmd) {
      child.stdin.write(`${cmd}\n`);
      return Number(await next());
    },
    async close() {
      child.stdin.write('quit\n');
      return JSON.parse(await next()) as Record<string, number | string>;
    },
  };
}

export const benchmark: Benchmark = {
  name: 'conv-train',
  description: `images/s of one All-CNN-C-style training step (widths ${WIDTHS.join(', ')}, MNIST 28x28, batch ${B}, Adam) vs PyTorch CPU, interleaved`,
  async run(): Promise<BenchRecord[]> {
    const backend = await initBackend();
    const { train } = loadMnist({ limit: B + 1, testSize: 1 });
    const xData = train.x.data.subarray(0, B * 784);
    const yData = train.y.subarray(0, B);
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-conv-bench-'));
    writeFileSync(join(dir, 'x.bin'), Buffer.from(xData.buffer, xData.byteOffset, xData.byteLength));
    writeFileSync(join(dir, 'y.bin'), Buffer.from(yData.buffer, yData.byteOffset, yData.byteLength));
    const peerOptions = { height: 28, width: 28, channels: 1, widths: WIDTHS, classes: 10, B, warmup: 2, x: join(dir, 'x.bin'), y: join(dir, 'y.bin') };

    const net = createCnn({ height: 28, width: 28, channels: 1, widths: WIDTHS, classes: 10, seed: 0 });
    const optimizer = tf.train.adam(1e-3);
    const x = tf.tensor2d(xData, [B, 784]);
    const y = tf.oneHot(tf.tensor1d(yData, 'int32'), 10);
    const step = async () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.apply(x, { training: true }) as tf.Tensor2D) as tf.Scalar, true);
      await loss!.data(); // wait for the step, as PyTorch's loss.item() does
      loss!.dispose();
    };
    const forward = async () => {
      const out = net.predict(x, { batchSize: B }) as tf.Tensor;
      await out.data();
      out.dispose();
    };
    const servers: Server[] = [];
    let peerMissing: string | null = null;
    try {
      servers.push(await startServer('pytorch', peerOptions));
      servers.push(await startServer('pytorch-1-thread', { ...peerOptions, threads: 1 }));
    } catch (e) {
      peerMissing = e instanceof Error ? e.message : String(e);
    }
    const load = [loadavg()[0]];
    const times: Record<string, number[]> = { ours: [], ...Object.fromEntries(servers.map((s) => [s.name, []])) };
    const fwd: Record<string, number[]> = { ours: [], ...Object.fromEntries(servers.map((s) => [s.name, []])) };
    const phases: Record<string, number[]> = { convForward: [], convBackpropInput: [], convBackpropFilter: [], convCopies: [], rest: [] };
    const summaries: Record<string, Record<string, number | string>> = {};
    try {
      for (let i = 0; i < 2; i++) await step();
      const sides = ['ours', ...servers.map((s) => s.name)];
      for (let i = 0; i < STEPS; i++) {
        // rotate who goes first, so no side always follows the same one
        for (let k = 0; k < sides.length; k++) {
          const side = sides[(i + k) % sides.length];
          if (side !== 'ours') {
            times[side].push(1000 * (await servers.find((s) => s.name === side)!.run('step')));
            continue;
          }
          resetConvTimings();
          const t0 = performance.now();
          await step();
          const ms = performance.now() - t0;
          const t = convTimings();
          times.ours.push(ms);
          phases.convForward.push(t.forward);
          phases.convBackpropInput.push(t.backpropInput);
          phases.convBackpropFilter.push(t.backpropFilter);
          phases.convCopies.push(t.copies);
          phases.rest.push(ms - t.forward - t.backpropInput - t.backpropFilter);
        }
      }
      for (let i = 0; i < Math.max(3, Math.ceil(STEPS / 2)); i++) {
        const t0 = performance.now();
        await forward();
        fwd.ours.push(performance.now() - t0);
        for (const s of servers) fwd[s.name].push(1000 * (await s.run('forward')));
      }
      load.push(loadavg()[0]);
    } finally {
      for (const s of servers) summaries[s.name] = await s.close().catch(() => ({}));
      rmSync(dir, { recursive: true, force: true });
      tf.dispose([x, y]);
      optimizer.dispose();
      net.dispose();
    }
    const ms = median(times.ours);
    const oursRate = B / (ms / 1000);
    const peerMs = servers.length > 0 ? median(times.pytorch) : null;
    const peerRate = peerMs === null ? null : B / (peerMs / 1000);
    const perSide = (f: (v: number[]) => number, from: Record<string, number[]>) => Object.fromEntries(Object.entries(from).map(([k, v]) => [k, v.length > 0 ? f(v) : null]));
    return [
      {
        name: 'conv-train',
        unit: 'images/s',
        ours: oursRate,
        peer: peerRate,
        peerName: `PyTorch (CPU, ${cpus().length} threads, same net and step, interleaved)`,
        ratio: peerRate === null ? null : oursRate / peerRate,
        config: { model: 'createCnn (All-CNN-C-style)', widths: WIDTHS, input: 'MNIST 28x28x1', B, optimizer: 'Adam', learningRate: 1e-3, stepsTimed: STEPS, timing: 'interleaved steps, medians' },
        backend: `${backend.name} (conv on ${wasmConvKernel()})`,
        date: new Date().toISOString(),
        extra: {
          msPerStepMedian: perSide(median, times),
          msPerStepFastest: perSide((v) => Math.min(...v), times),
          forwardMsMedian: perSide(median, fwd),
          ratioOfFastestSteps: servers.length > 0 ? Math.min(...times.pytorch) / Math.min(...times.ours) : null,
          ratioVsPyTorchOneThread: servers.length > 1 ? median(times['pytorch-1-thread']) / ms : null,
          oursPhasesMsMedian: perSide(median, phases),
          oursPeakRssMiB: peakRssMiB(),
          loadAverage1mStartEnd: load,
          ...(peerMissing === null ? { peerPeakRssMiB: summaries.pytorch?.peak_rss_mib, peerThreads: summaries.pytorch?.threads, peerTorch: summaries.pytorch?.torch } : { peerMissing }),
        },
      },
    ];
  },
};
