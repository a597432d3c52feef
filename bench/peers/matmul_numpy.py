# Peer for bench/matmul.bench.ts: float32 n x n matMul GFLOP/s in NumPy (its BLAS, all cores).
import json, sys, time
import numpy as np

opts = json.loads(sys.argv[1])
n, repeats = opts["n"], opts.get("repeats", 5)
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b  # warm-up
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    a @ b
    times.append(time.perf_counter() - t0)
t = sorted(times)[len(times) // 2]
print(json.dumps({"gflops": 2 * n**3 / t / 1e9, "seconds": t, "numpy": np.__version__}))
