"""PyTorch peer for bench/lm-train.bench.ts: one training step of the same GPT-style decoder.

nanoGPT's model (github.com/karpathy/nanoGPT, model.py) at the sizes of src/lm/config.ts: token
and learned position embeddings, pre-LayerNorm blocks (causal multi-head attention with biases,
MLP d -> dMlp -> d with GPT-2's tanh GELU), final LayerNorm, tied unembedding plus an output
bias, no dropout; mean cross-entropy; AdamW (betas 0.9/0.95, weight decay 0.1 on matrices),
global-norm clip 1.0. Attention is written out (matmul, mask, softmax), as in nanoGPT's slow
path, since PyTorch 1.13 has no scaled_dot_product_attention.
Prints one JSON line: ms per step (median), tokens/s, peak RSS (MiB).
"""
import json
import math
import os
import resource
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from peer_timing import median_seconds


class Block(nn.Module):
    def __init__(self, d, h, dmlp, T):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.fc = nn.Linear(d, dmlp)
        self.out = nn.Linear(dmlp, d)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q.view(B, T, self.h, d // self.h).transpose(1, 2)
        k = k.view(B, T, self.h, d // self.h).transpose(1, 2)
        v = v.view(B, T, self.h, d // self.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        z = (F.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, d)
        x = x + self.proj(z)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, T, d, L, h, dmlp):
        super().__init__()
        self.wte = nn.Embedding(V, d)
        self.wpe = nn.Embedding(T, d)
        self.blocks = nn.ModuleList([Block(d, h, dmlp, T) for _ in range(L)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.b_U = nn.Parameter(torch.zeros(V))

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t() + self.b_U
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    o = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    V, T, d, L = o.get("V", 8192), o.get("T", 64), o.get("d", 128), o.get("L", 2)
    h, B = o.get("heads", 4), o.get("B", 32)
    dmlp = o.get("dMlp", 4 * d)
    steps, warmup = o.get("steps", 5), o.get("warmup", 2)
    torch.manual_seed(0)
    torch.set_num_threads(o.get("threads", os.cpu_count() or 1))
    model = GPT(V, T, d, L, h, dmlp)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wpe" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=3e-4, betas=(0.9, 0.95))
    idx = torch.randint(0, V, (B, T))
    tgt = torch.randint(0, V, (B, T))

    def step():
        loss = model(idx, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    ms = median_seconds(step, steps, warmup) * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms": ms, "tokensPerSecond": B * T / (ms / 1000), "peakRssMiB": rss, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
