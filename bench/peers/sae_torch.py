"""PyTorch peer for bench/sae-train.bench.ts (CPU) and bench/gpu/check.ts ("device": "cuda"):
one training step of the same TopK SAE.

The standard dense formulation (as in saprmarks/dictionary_learning and SAELens): pre-encoder
bias, TopK then ReLU, dense decode f @ W_dec (group by group for Matryoshka, as in Bussmann et
al. Listing 1), per-prefix MSE (mean_b sum_d) summed with weights 1/K, autograd, decoder-gradient projection, Adam, decoder row renormalization.
Prints one JSON line: ms per step (median), rows/s, peak RSS (MiB).
"""
import json
import os
import resource
import sys
import time

import torch

from peer_timing import median_seconds


def main():
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    d, m, k, B = opts.get("d", 512), opts.get("m", 4096), opts.get("k", 32), opts.get("B", 4096)
    prefixes = opts.get("prefixes", [m])
    steps, warmup = opts.get("steps", 3), opts.get("warmup", 1)
    torch.manual_seed(0)
    torch.set_num_threads(opts.get("threads", os.cpu_count() or 1))
    device = torch.device(opts.get("device", "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("device cuda was asked for, but torch.cuda.is_available() is False")
    W_dec = torch.nn.functional.normalize(torch.empty(m, d, device=device).uniform_(-1, 1), dim=1)
    W_dec = torch.nn.Parameter(W_dec)
    W_enc = torch.nn.Parameter(W_dec.detach().t().clone())
    b_enc = torch.nn.Parameter(torch.zeros(m, device=device))
    b_dec = torch.nn.Parameter(torch.zeros(d, device=device))
    opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=1e-4, betas=(0.9, 0.999))
    x = torch.randn(B, d, device=device)
    weights = [1.0 / len(prefixes)] * len(prefixes)

    def step():
        pre = (x - b_dec) @ W_enc + b_enc
        vals, idx = pre.topk(k, dim=1)
        f = torch.zeros_like(pre).scatter(1, idx, torch.relu(vals))
        # Matryoshka as in Bussmann et al. Listing 1: add each group's decode to the running
        # reconstruction (a flat SAE is one group), so the decode costs the same as the flat one.
        loss = 0.0
        recon = b_dec
        start = 0
        for p, w in zip(prefixes, weights):
            recon = recon + f[:, start:p] @ W_dec[start:p]
            loss = loss + w * (recon - x).pow(2).sum(1).mean()
            start = p
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            wn = W_dec / W_dec.norm(dim=1, keepdim=True)
            W_dec.grad.sub_((W_dec.grad * wn).sum(1, keepdim=True) * wn)
        torch.nn.utils.clip_grad_norm_([W_enc, b_enc, W_dec, b_dec], 1.0)
        opt.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=1, keepdim=True))
        return loss.item()

    med = median_seconds(step, steps, warmup)
    gemm = []
    with torch.no_grad():
        for _ in range(3):
            t0 = time.perf_counter()
            (x - b_dec) @ W_enc
            if device.type == "cuda":
                torch.cuda.synchronize()
            gemm.append(time.perf_counter() - t0)
    gemm.sort()
    print(json.dumps({
        "ms_per_step": med * 1000,
        "rows_per_s": B / med,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "encoder_gemm_ms": gemm[1] * 1000,
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
