/**
 * matMul GFLOP/s (float32, 1024^3) on every tfjs backend that starts here, vs NumPy's BLAS.
 */
import { tf } from '../src/backend/tf.js';
import { selectBackend, BACKEND_NAMES } from '../src/backend/select.js';
import { runPeer, timeIt, type Benchmark, type BenchRecord } from './lib.js';

const N = 1024;

export const benchmark: Benchmark = {
  name: 'matmul',
  description: `float32 ${N}x${N} @ ${N}x${N} matMul GFLOP/s per backend vs NumPy`,
  async run() {
    const peer = runPeer('matmul_numpy.py', { n: N, repeats: 5 });
    const records: BenchRecord[] = [];
    for (const backend of BACKEND_NAMES) {
      try {
        await selectBackend(backend);
      } catch (e) {
        console.log(`  ${backend}: not available (${(e as Error).message.split(': ').slice(-1)[0]})`);
        continue;
      }
      const a = tf.randomNormal([N, N], 0, 1, 'float32', 1);
      const b = tf.randomNormal([N, N], 0, 1, 'float32', 2);
      const repeats = backend === 'cpu' ? 2 : 5;
      const seconds = await timeIt(async () => {
        const c = tf.matMul(a, b);
        await c.data();
        c.dispose();
      }, repeats);
      tf.dispose([a, b]);
      const ours = (2 * N ** 3) / seconds / 1e9;
      const peerG = peer.ok ? Number(peer.result.gflops) : null;
      records.push({
        name: `matmul-${backend}`,
        unit: 'GFLOP/s',
        ours,
        peer: peerG,
        peerName: peer.ok ? `numpy ${peer.result.numpy} (BLAS, all cores)` : 'numpy',
        ratio: peerG === null ? null : ours / peerG,
        config: { n: N, dtype: 'float32', repeats, statistic: 'median' },
        backend,
        date: new Date().toISOString(),
        extra: peer.ok ? { oursSeconds: seconds, peerSeconds: peer.result.seconds } : { oursSeconds: seconds, peerMissing: peer.reason },
      });
    }
    return records;
  },
};
