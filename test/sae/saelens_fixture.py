"""Writes SAELens-format SAE folders and the codes SAELens' formulas give, for
test/sae/saelens.test.ts. Written from SAELens v6's definitions (docs/methods/msae.md §8), not
from nestlab's code:

  sae_in = x - b_dec                      (apply_b_dec_to_input)
  pre    = sae_in @ W_enc + b_enc
  f      = relu(pre) * (pre > threshold)  (JumpReLUSAE.encode; threshold per latent)
  x_hat  = f @ W_dec + b_dec

Python's `safetensors` package is not needed: the file is an 8-byte little-endian header length,
a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes.

usage: saelens_fixture.py OUT_DIR   -> OUT_DIR/{jumprelu,jumprelu_f16}/{cfg.json,sae_weights.safetensors},
OUT_DIR/x.npy, and a JSON summary on stdout with the expected codes.
"""
import json
import os
import struct
import sys

import numpy as np


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype('<f4'): 'F32', np.dtype('<f2'): 'F16'}[a.dtype]
        raw = a.tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b' ' * ((8 - len(head) % 8) % 8)
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<Q', len(head)))
        fh.write(head)
        for b in blobs:
            fh.write(b)


def jumprelu_codes(x, w, dtype):
    """f = relu(pre) * (pre > threshold), computed in the cfg dtype's precision of the weights (float64 arithmetic)."""
    p = {k: v.astype(dtype).astype(np.float64) for k, v in w.items()}
    pre = (x.astype(np.float64) - p['b_dec']) @ p['W_enc'] + p['b_enc']
    f = np.maximum(pre, 0) * (pre > p['threshold'])
    recon = f @ p['W_dec'] + p['b_dec']
    return pre, f, recon


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(12)
    d_in, d_sae, n = 64, 512, 200
    # An SAE whose pre-activations are mostly positive, so a ReLU reading would fire on
    # many latents while the per-latent thresholds keep only a few.
    w_dec = rng.normal(size=(d_sae, d_in))
    w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    w = {
        'W_enc': (w_dec.T * 0.8 + 0.05 * rng.normal(size=(d_in, d_sae))).astype(np.float32),
        'b_enc': (0.4 + 0.1 * rng.normal(size=d_sae)).astype(np.float32),
        'W_dec': w_dec.astype(np.float32),
        'b_dec': (0.1 * rng.normal(size=d_in)).astype(np.float32),
        'threshold': rng.uniform(1.2, 2.2, size=d_sae).astype(np.float32),
    }
    x = rng.normal(size=(n, d_in)).astype(np.float32)
    summary = {}
    for name, dtype in (('jumprelu', np.float32), ('jumprelu_f16', np.float16)):
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        cfg = {
            'architecture': 'jumprelu', 'd_in': d_in, 'd_sae': d_sae,
            'dtype': 'torch.float32' if dtype == np.float32 else 'torch.float16', 'device': 'cpu',
            'apply_b_dec_to_input': True, 'normalize_activations': 'none', 'reshape_activations': 'none',
            'metadata': {'sae_lens_version': '6.18.0', 'model_name': 'fixture', 'hook_name': 'blocks.0.hook_resid_post'},
        }
        with open(os.path.join(folder, 'cfg.json'), 'w') as fh:
            json.dump(cfg, fh)
        write_safetensors(os.path.join(folder, 'sae_weights.safetensors'), {k: v.astype(dtype) for k, v in w.items()})
        pre, f, recon = jumprelu_codes(x, w, dtype)
        relu_l0 = float((pre > 0).sum(axis=1).mean())
        summary[name] = {
            'l0': float((f > 0).sum(axis=1).mean()),
            'reluL0': relu_l0,
            'f': f.astype(np.float32).ravel().tolist(),
            'recon': recon.astype(np.float32).ravel().tolist(),
            # distance of each pre-activation from its threshold: entries this close may flip in float32
            'minMargin': float(np.abs(pre - w['threshold'].astype(dtype).astype(np.float64)).min()),
        }
    np.save(os.path.join(out, 'x.npy'), x)
    print(json.dumps({'rows': n, 'dIn': d_in, 'dSae': d_sae, **summary}))


if __name__ == '__main__':
    main()
