"""PyTorch peer for bench/gpu/check.ts: the condensed Euclidean RDM (rsatoolbox scaling,
||x_i - x_j||^2 / p) of an n x p float32 matrix, computed on `device` from one Gram product and
copied to the host, as nestlab's computeRdm returns it. The upper-triangle indices are built once,
outside the timing. Input: one JSON argument {data, n, p, repeats, device}; `data` is a raw
little-endian float32 file. Prints one JSON line: median seconds, the RDM's mean, versions.
"""
import json
import sys
import time

import numpy as np
import torch

opts = json.loads(sys.argv[1])
n, p, repeats = opts["n"], opts["p"], opts.get("repeats", 3)
device = torch.device(opts.get("device", "cpu"))
if device.type == "cuda" and not torch.cuda.is_available():
    raise SystemExit("device cuda was asked for, but torch.cuda.is_available() is False")
x = torch.from_numpy(np.fromfile(opts["data"], dtype=np.float32).reshape(n, p)).to(device)
iu = torch.triu_indices(n, n, 1, device=device)


def rdm():
    xc = x - x.mean(0, keepdim=True)  # centering first, as nestlab does, against cancellation
    sq = (xc * xc).sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * (xc @ xc.T)).clamp_min_(0)
    return (d2[iu[0], iu[1]] / p).cpu()  # .cpu() waits for the device


out = rdm()  # warm-up
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    out = rdm()
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({
    "seconds": times[len(times) // 2],
    "mean": float(out.double().mean()),
    "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
    "torch": torch.__version__,
}))
