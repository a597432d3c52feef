"""Peer for bench/rdm.bench.ts: scipy/numpy on the same data nestlab uses.

Input: one JSON argument {data, n, p, graph, gn, repeats, steps}. `data` is a raw little-endian
float32 file of the n x p patterns; `graph` a raw float64 file of the gn x gn geodesic weight matrix
(inf = no edge). Prints one JSON line with median wall times in seconds (time.perf_counter):
  rdm_s        pdist(x, 'euclidean') + pdist(x, 'correlation') + spearmanr of the two
  pdist_euclidean_s, pdist_correlation_s, spearman_s  (the three parts, each timed alone)
  rgtm_grid_s  the authors' (l, u) grid (step 1/steps) of rank-mode RGTMs over the Euclidean RDM,
               ranks computed once, each cell a vectorized clip (numpy)
  geodesic_s   csgraph_from_dense(w, null_value=inf) + shortest_path(method='auto'), undirected
plus the Spearman value, for the agreement check.
"""
import json
import sys
import time

import numpy as np
from scipy.sparse.csgraph import csgraph_from_dense, shortest_path
from scipy.spatial.distance import pdist
from scipy.stats import rankdata, spearmanr


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    opt = json.loads(sys.argv[1])
    n, p, reps = opt['n'], opt['p'], opt['repeats']
    x = np.fromfile(opt['data'], dtype='<f4').reshape(n, p).astype(np.float64)
    out = {}

    def full():
        e = pdist(x, 'euclidean')
        c = pdist(x, 'correlation')
        return spearmanr(e, c).correlation

    out['rdm_s'] = median_time(full, reps)
    e = pdist(x, 'euclidean')
    c = pdist(x, 'correlation')
    out['spearman'] = float(spearmanr(e, c).correlation)
    out['pdist_euclidean_s'] = median_time(lambda: pdist(x, 'euclidean'), reps)
    out['pdist_correlation_s'] = median_time(lambda: pdist(x, 'correlation'), reps)
    out['spearman_s'] = median_time(lambda: spearmanr(e, c), reps)

    steps = opt['steps']
    cells = []
    for i in range(steps):
        lo = i / steps
        for j in range(steps, i - 1, -1):
            up = j / steps
            if lo + up <= 0.01 or lo + up >= 1.99:
                continue
            cells.append((lo, up))

    def grid():
        r = rankdata(e)
        r = (r - r.min()) / (r.max() - r.min())
        s = np.sort(r)
        acc = 0.0
        for lo, up in cells:
            a, b = np.quantile(s, lo), np.quantile(s, up)
            if b > a:
                g = np.clip((r - a) / (b - a), 0.0, 1.0)
            else:
                g = (r > a).astype(np.float64)
            acc += g[0]
        return acc

    out['rgtm_grid_s'] = median_time(grid, max(1, reps // 2))
    out['rgtm_cells'] = len(cells)

    gn = opt['gn']
    w = np.fromfile(opt['graph'], dtype='<f8').reshape(gn, gn)
    # csgraph_from_dense with null_value=inf keeps zero-weight edges (a plain dense array would drop them)
    def geo():
        return shortest_path(csgraph_from_dense(w, null_value=np.inf), method='auto', directed=False)

    out['geodesic_s'] = median_time(geo, max(1, reps // 2))
    d = geo()
    out['geodesic_checksum'] = float(np.sum(d[np.isfinite(d)]))
    out['geodesic_unreachable'] = int(np.sum(~np.isfinite(d)))
    print(json.dumps(out))


if __name__ == '__main__':
    main()
