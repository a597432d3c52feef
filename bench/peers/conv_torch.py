"""PyTorch peer for bench/conv-train.bench.ts: one training step of the same All-CNN-C-style net.

The model of src/models/cnn.ts (Springenberg et al. 2015, All-CNN-C, scaled down): 3x3 convs
w1, w1, w1 stride 2, w2, w2, w2 stride 2, w2, then 1x1 convs w2 and classes, ReLU after every conv
but the last, global average pooling -> logits. Padding as TensorFlow's 'same' computes it: 1 on
every side for stride-1 3x3 convs; for stride 2 the total padding max((out-1)*2+3-in, 0) with the
extra row/column at the bottom/right (ZeroPad2d before the conv), so the windows are the same as
tfjs'. He-uniform weights, zero biases, mean softmax cross-entropy, Adam (lr 1e-3). NCHW.
Prints one JSON line: ms per step (median, and the fastest step), images/s, forward-only ms,
peak RSS (MiB). Timed here rather than by peer_timing.median_seconds to report the fastest step
too, and to serve single steps on request ("serve": the bench interleaves them with its own).
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def same_conv(cin, cout, k, stride, size):
    """A conv with TensorFlow 'same' padding for an input of side `size`; returns (layers, out side)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    lo, hi = total // 2, total - total // 2
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=0 if lo != hi else lo)
    nn.init.kaiming_uniform_(conv.weight, nonlinearity="relu")
    nn.init.zeros_(conv.bias)
    layers = [conv] if lo == hi else [nn.ZeroPad2d((lo, hi, lo, hi)), conv]
    return layers, out


def all_cnn(h, channels, widths, classes):
    w1, w2 = widths
    spec = [(w1, 3, 1), (w1, 3, 1), (w1, 3, 2), (w2, 3, 1), (w2, 3, 1), (w2, 3, 2), (w2, 3, 1), (w2, 1, 1), (classes, 1, 1)]
    layers, cin, size = [], channels, h
    for i, (cout, k, s) in enumerate(spec):
        conv, size = same_conv(cin, cout, k, s, size)
        layers += conv
        if i < len(spec) - 1:
            layers.append(nn.ReLU())
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def main():
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    h, w, c = opts.get("height", 28), opts.get("width", 28), opts.get("channels", 1)
    widths, classes, B = opts.get("widths", [16, 32]), opts.get("classes", 10), opts.get("B", 128)
    steps, warmup = opts.get("steps", 10), opts.get("warmup", 2)
    torch.manual_seed(0)
    torch.set_num_threads(opts.get("threads", os.cpu_count() or 1))
    model = all_cnn(h, c, widths, classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    if "x" in opts:  # the same MNIST batch as nestlab's, float32 [B, h*w*c] in a raw file
        x = torch.from_numpy(np.fromfile(opts["x"], dtype=np.float32).reshape(B, h, w, c)).permute(0, 3, 1, 2).contiguous()
        y = torch.from_numpy(np.fromfile(opts["y"], dtype=np.int32).astype(np.int64))
    else:
        x = torch.rand(B, c, h, w)
        y = torch.randint(0, classes, (B,))
    if opts.get("channels_last", False):  # NHWC in memory, as nestlab's tensors are
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def timed(f):
        t0 = time.perf_counter()
        f()
        return time.perf_counter() - t0

    def forward():
        with torch.no_grad():
            model(x)

    for _ in range(warmup):
        step()
    times, fwd = [], []
    if opts.get("serve", False):
        # Interleaved with nestlab's steps by the bench: one line in ("step" / "forward" / "quit"),
        # one line out (the seconds it took), so both sides run under the same machine load.
        print("ready", flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "quit":
                break
            dt = timed(step if cmd == "step" else forward)
            (times if cmd == "step" else fwd).append(dt)
            print(dt, flush=True)
    else:
        times = [timed(step) for _ in range(steps)]
        fwd = [timed(forward) for _ in range(max(3, steps // 2))]
    times.sort()
    fwd.sort()
    med = times[len(times) // 2]
    print(json.dumps({
        "ms_per_step": med * 1000,
        "ms_per_step_min": times[0] * 1000,
        "images_per_s": B / med,
        "forward_ms": fwd[len(fwd) // 2] * 1000 if fwd else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "channels_last": bool(opts.get("channels_last", False)),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
