"""PyTorch peer for bench/sae-mp.bench.ts (CPU): one training step of a matching-pursuit SAE.

SAELens' `_encode_matching_pursuit` loop (sae_lens/saes/matching_pursuit_sae.py) with exactly k
steps: the atom picked under no_grad from the full correlation matrix, its ReLU'd coefficient
with gradient, autograd through every step; MSE (mean_b sum_d), decoder-gradient projection,
global-norm clip, Adam, decoder row renormalization. No AuxK (SAELens' MP-SAE has none).
Prints one JSON line: ms per step (median), rows/s, peak RSS (MiB).
"""
import json
import os
import resource
import sys

import torch

from peer_timing import median_seconds


def main():
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    d, m, k, B = opts.get("d", 128), opts.get("m", 2048), opts.get("k", 16), opts.get("B", 4096)
    steps, warmup = opts.get("steps", 3), opts.get("warmup", 1)
    torch.manual_seed(0)
    torch.set_num_threads(opts.get("threads", os.cpu_count() or 1))
    W_dec = torch.nn.Parameter(torch.nn.functional.normalize(torch.empty(m, d).uniform_(-1, 1), dim=1))
    b_dec = torch.nn.Parameter(torch.zeros(d))
    opt = torch.optim.Adam([W_dec, b_dec], lr=1e-4, betas=(0.9, 0.999))
    x = torch.randn(B, d)

    def step():
        r = x - b_dec
        acts = torch.zeros(B, m)
        for _ in range(k):
            with torch.no_grad():
                idx = (r @ W_dec.T).relu().max(dim=1, keepdim=True).indices
            sel = W_dec[idx.squeeze(1)]
            v = (r * sel).sum(dim=-1, keepdim=True).relu()
            acts = acts.scatter_add(1, idx, v)
            r = r - v * sel
        loss = (acts @ W_dec + b_dec - x).pow(2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            wn = W_dec / W_dec.norm(dim=1, keepdim=True)
            W_dec.grad.sub_((W_dec.grad * wn).sum(1, keepdim=True) * wn)
        torch.nn.utils.clip_grad_norm_([W_dec, b_dec], 1.0)
        opt.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=1, keepdim=True))

    seconds = median_seconds(step, steps, warmup)
    print(json.dumps({
        "ms_per_step": seconds * 1000,
        "rows_per_s": B / seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
