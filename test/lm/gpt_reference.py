"""PyTorch reference for test/lm/model.test.ts: nestlab's LM weights run through the PyTorch GPT
of bench/peers/lm_torch.py (nanoGPT's model: fused qkv, nn.Linear layers, tied unembedding).

Usage: gpt_reference.py <dir>. Reads <dir>/lm.safetensors, written by the test: every parameter
under its TransformerLens name (src/lm/model.ts, `Lm.params`), plus `ids`, `targets` (all valid)
and `targets_ignored` (some -1), as I32 [B, T]; the metadata holds the sizes. Runs in float64 and
prints one JSON line: `logits` [B*T*V], `loss` (the peer's own forward on `targets`),
`loss_ignored` (mean cross-entropy over the rows whose target is not -1) and `grads`, the gradient
of `loss_ignored` under nestlab's names and shapes.

Name map (ours -> nanoGPT's): embed.W_E -> wte.weight; pos_embed.W_pos -> wpe.weight;
blocks.l.ln1.{w,b} -> ln1.{weight,bias}; [W_Q | W_K | W_V] (each [d, d], x @ W) -> qkv.weight
[3d, d] (nn.Linear stores [out, in]: transposed), [b_Q | b_K | b_V] -> qkv.bias; W_O -> proj
(transposed); ln2; W_in -> fc, W_out -> out (transposed); ln_final -> ln_f; unembed.b_U -> b_U.
Head h owns columns h*dH..(h+1)*dH of W_Q in both (nanoGPT's view(B, T, h, d // h)).

No safetensors package is needed: the format is 8 bytes of header length, the JSON header, data.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "peers"))
from lm_torch import GPT  # noqa: E402  (the bench's peer model)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "I32": np.int32}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        out[name] = np.frombuffer(raw[base + begin : base + end], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
    return out, header.get("__metadata__", {})


def main():
    folder = sys.argv[1]
    t, meta = read_safetensors(os.path.join(folder, "lm.safetensors"))
    V, T, d, L, H, dmlp = (int(meta[k]) for k in ("vocabSize", "contextLength", "dModel", "nLayers", "nHeads", "dMlp"))
    torch.set_num_threads(1)
    model = GPT(V, T, d, L, H, dmlp).double()

    def w(name):
        return torch.tensor(t[name].astype(np.float64))

    with torch.no_grad():
        model.wte.weight.copy_(w("embed.W_E"))
        model.wpe.weight.copy_(w("pos_embed.W_pos"))
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}."
            blk.ln1.weight.copy_(w(p + "ln1.w"))
            blk.ln1.bias.copy_(w(p + "ln1.b"))
            blk.qkv.weight.copy_(torch.cat([w(p + "attn.W_Q"), w(p + "attn.W_K"), w(p + "attn.W_V")], dim=1).t())
            blk.qkv.bias.copy_(torch.cat([w(p + "attn.b_Q"), w(p + "attn.b_K"), w(p + "attn.b_V")]))
            blk.proj.weight.copy_(w(p + "attn.W_O").t())
            blk.proj.bias.copy_(w(p + "attn.b_O"))
            blk.ln2.weight.copy_(w(p + "ln2.w"))
            blk.ln2.bias.copy_(w(p + "ln2.b"))
            blk.fc.weight.copy_(w(p + "mlp.W_in").t())
            blk.fc.bias.copy_(w(p + "mlp.b_in"))
            blk.out.weight.copy_(w(p + "mlp.W_out").t())
            blk.out.bias.copy_(w(p + "mlp.b_out"))
        model.ln_f.weight.copy_(w("ln_final.w"))
        model.ln_f.bias.copy_(w("ln_final.b"))
        model.b_U.copy_(w("unembed.b_U"))

    idx = torch.tensor(t["ids"].astype(np.int64))
    targets = torch.tensor(t["targets"].astype(np.int64))
    ignored = torch.tensor(t["targets_ignored"].astype(np.int64))
    B, Tn = idx.shape

    # The peer's own forward gives the loss; its body, step by step, gives the logits.
    with torch.no_grad():
        loss = model(idx, targets).item()
    x = model.wte(idx) + model.wpe(torch.arange(Tn))
    for blk in model.blocks:
        x = blk(x)
    logits = (model.ln_f(x) @ model.wte.weight.t() + model.b_U).reshape(B * Tn, V)
    loss_ignored = F.cross_entropy(logits, ignored.reshape(-1), ignore_index=-1)
    model.zero_grad()
    loss_ignored.backward()

    def g(param):
        return param.grad.detach().numpy()

    grads = {"embed.W_E": g(model.wte.weight), "pos_embed.W_pos": g(model.wpe.weight)}
    for l, blk in enumerate(model.blocks):
        p = f"blocks.{l}."
        qkv_w = g(blk.qkv.weight).T  # [d, 3d]
        qkv_b = g(blk.qkv.bias)
        for i, m in enumerate("QKV"):
            grads[p + "attn.W_" + m] = qkv_w[:, i * d : (i + 1) * d]
            grads[p + "attn.b_" + m] = qkv_b[i * d : (i + 1) * d]
        grads[p + "attn.W_O"] = g(blk.proj.weight).T
        grads[p + "attn.b_O"] = g(blk.proj.bias)
        grads[p + "ln1.w"], grads[p + "ln1.b"] = g(blk.ln1.weight), g(blk.ln1.bias)
        grads[p + "ln2.w"], grads[p + "ln2.b"] = g(blk.ln2.weight), g(blk.ln2.bias)
        grads[p + "mlp.W_in"], grads[p + "mlp.b_in"] = g(blk.fc.weight).T, g(blk.fc.bias)
        grads[p + "mlp.W_out"], grads[p + "mlp.b_out"] = g(blk.out.weight).T, g(blk.out.bias)
    grads["ln_final.w"], grads["ln_final.b"] = g(model.ln_f.weight), g(model.ln_f.bias)
    grads["unembed.b_U"] = g(model.b_U)

    print(json.dumps({
        "logits": logits.detach().numpy().reshape(-1).tolist(),
        "loss": loss,
        "loss_ignored": loss_ignored.item(),
        "grads": {k: np.ascontiguousarray(v).reshape(-1).tolist() for k, v in grads.items()},
    }))


if __name__ == "__main__":
    main()
