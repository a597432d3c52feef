/**
 * matMul GFLOP/s (float32, 1024^3) on every tfjs backend that starts here, vs NumPy's BLAS. On
 * wasm it measures both kernels: the system BLAS (when nblas loaded) and XNNPACK. Each timed run
 * waits for a scalar read of the product (its sum), which forces the work on asynchronous
 * backends without timing a 4 MB read-back that NumPy's product does not do.
 */
import { tf } from '../src/backend/tf.js';
import { selectBackend, BACKEND_NAMES } from '../src/backend/select.js';
import { loadBlas } from '../src/backend/blas.js';
import { useBlasForWasmMatMul } from '../src/backend/wasm-matmul.js';
import { runPeer, timeIt, type Benchmark, type BenchRecord } from './lib.js';

const N = 1024;

export const benchmark: Benchmark = {
  name: 'matmul',
  description: `float32 ${N}x${N} @ ${N}x${N} matMul GFLOP/s per backend vs NumPy`,
  async run() {
    const peer = runPeer('matmul_numpy.py', { n: N, repeats: 5 });
    const records: BenchRecord[] = [];
    const runs: { backend: (typeof BACKEND_NAMES)[number]; kernel: 'blas' | 'xnnpack' | null }[] = [];
    for (const backend of BACKEND_NAMES) {
      if (backend !== 'wasm') runs.push({ backend, kernel: null });
      else runs.push(...(loadBlas() !== null ? [{ backend, kernel: 'blas' as const }] : []), { backend, kernel: 'xnnpack' });
    }
    for (const { backend, kernel } of runs) {
      try {
        await selectBackend(backend);
      } catch (e) {
        console.log(`  ${backend}: not available (${(e as Error).message.split(': ').slice(-1)[0]})`);
        continue;
      }
      if (kernel !== null) useBlasForWasmMatMul(kernel === 'blas' ? loadBlas() : null);
      const a = tf.randomNormal([N, N], 0, 1, 'float32', 1);
      const b = tf.randomNormal([N, N], 0, 1, 'float32', 2);
      const repeats = backend === 'cpu' ? 2 : 5;
      const seconds = await timeIt(async () => {
        const total = tf.tidy(() => tf.sum(tf.matMul(a, b)));
        await total.data();
        total.dispose();
      }, repeats);
      tf.dispose([a, b]);
      if (kernel !== null) useBlasForWasmMatMul(loadBlas()); // back to the default for later benchmarks
      const ours = (2 * N ** 3) / seconds / 1e9;
      const peerG = peer.ok ? Number(peer.result.gflops) : null;
      records.push({
        name: kernel === 'xnnpack' ? 'matmul-wasm-xnnpack' : `matmul-${backend}`,
        unit: 'GFLOP/s',
        ours,
        peer: peerG,
        peerName: peer.ok ? `numpy ${peer.result.numpy} (BLAS, all cores)` : 'numpy',
        ratio: peerG === null ? null : ours / peerG,
        config: { n: N, dtype: 'float32', repeats, statistic: 'median' },
        backend: kernel === null ? backend : `${backend} (${kernel === 'blas' ? 'matMul on the system BLAS' : 'matMul on XNNPACK'})`,
        date: new Date().toISOString(),
        extra: peer.ok ? { oursSeconds: seconds, peerSeconds: peer.result.seconds } : { oursSeconds: seconds, peerMissing: peer.reason },
      });
    }
    return records;
  },
};
