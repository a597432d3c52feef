# Peer for bench/cka.bench.ts: linear CKA of two n x p float32 matrices in NumPy, as Kornblith et
# al.'s reference code (google-research representation_similarity, feature_space_linear_cka):
# center the columns, ||X^T Y||_F^2 / (||X^T X||_F ||Y^T Y||_F). Reads the same float32 data that
# nestlab used from raw files; prints median seconds (after one warm-up) and the value.
import json, sys, time
import numpy as np

opts = json.loads(sys.argv[1])
n, p, repeats = opts["n"], opts["p"], opts.get("repeats", 5)
X = np.fromfile(opts["x"], dtype=np.float32).reshape(n, p)
Y = np.fromfile(opts["y"], dtype=np.float32).reshape(n, p)


def feature_space_linear_cka(features_x, features_y):
    features_x = features_x - np.mean(features_x, 0, keepdims=True)
    features_y = features_y - np.mean(features_y, 0, keepdims=True)
    dot_product_similarity = np.linalg.norm(features_x.T.dot(features_y)) ** 2
    normalization_x = np.linalg.norm(features_x.T.dot(features_x))
    normalization_y = np.linalg.norm(features_y.T.dot(features_y))
    return dot_product_similarity / (normalization_x * normalization_y)


def timed(x, y):
    feature_space_linear_cka(x, y)  # warm-up
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = feature_space_linear_cka(x, y)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], float(value)


t32, v32 = timed(X, Y)
t64, v64 = timed(X.astype(np.float64), Y.astype(np.float64))
print(json.dumps({"seconds": t32, "value": v32, "seconds_f64": t64, "value_f64": v64, "numpy": np.__version__}))
