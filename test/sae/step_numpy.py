"""An independent float64 NumPy implementation of nestlab's SAE training step, for
test/sae/step-numpy.test.ts. Written from docs/methods/msae.md (§1.2 TopK, §1.3 BatchTopK and
§1.4 its smallest kept activation, §2.1 Matryoshka loss, §3 AuxK and the dead counters, §4.2 Adam
and schedule, §4.3 step order), not from the TypeScript: dense masks instead of sparse codes, and
gradients derived by hand for the dense form and checked here by central finite differences, so
that the peer itself is known to be right.

stdin: {"configs": [config, ...]} where a config holds the architecture and training fields
(camelCase, as nestlab names them), `totalSteps`, the starting `init` (parameters, step, Adam
moments, samples since each latent fired) and `batches` (row-major [B, d] lists).
stdout: {"results": [[step report, ...], ...]}, one report per batch.
"""
import json
import sys

import numpy as np

KEYS = ('wEnc', 'bEnc', 'wDec', 'bDec')


def learning_rate(c, s):
    """§4.2: lr · min(1, (s+1)/warmup), times max(0, (T − s)/(T − decayStart·T)) once s ≥ decayStart·T."""
    lr = c['learningRate']
    if c['warmupSteps'] > 0:
        lr *= min(1.0, (s + 1) / c['warmupSteps'])
    T = c['totalSteps']
    start = c['decayStart'] * T
    if c['decayStart'] < 1 and s >= start:
        lr *= max(0.0, (T - s) / (T - start))
    return lr


def select(c, pre):
    """The training code's support (§1.2 / §1.3) as a 0/1 mask, with the selection's margins."""
    B, m = pre.shape
    k = c['k']
    if c['activation'] == 'topk':
        order = np.argsort(-pre, axis=1, kind='stable')
        mask = np.zeros_like(pre)
        np.put_along_axis(mask, order[:, :k], 1.0, axis=1)
        mask *= pre > 0  # TopK, then ReLU
        s = -np.sort(-pre, axis=1)
        gap = float(np.min(s[:, k - 1] - s[:, k])) if k < m else np.inf
        gap = min(gap, float(np.min(np.abs(s[:, :k]))))  # ReLU after the selection
        return mask, gap, None
    r = np.maximum(pre, 0.0)
    K = max(1, int(np.floor(k * B)))
    flat = np.argsort(-r, axis=None, kind='stable')[:K]
    mask = np.zeros(B * m)
    mask[flat] = 1.0
    mask = mask.reshape(B, m) * (r > 0)
    s = -np.sort(-r, axis=None)
    gap = float(s[K - 1] - s[K]) if K < B * m else np.inf
    return mask, gap, float(s[K - 1])  # the smallest kept activation (θ's update, §1.4)


def select_aux(c, pre, dead):
    """§3: per row the top k_aux = min(auxK, |D|) pre-activations among dead latents, then ReLU."""
    n_dead = int(dead.sum())
    if n_dead == 0 or c['auxK'] == 0 or c['auxAlpha'] == 0:
        return None, 0.0, np.inf
    k_aux = min(c['auxK'], n_dead)
    masked = np.where(dead[None, :], pre, -np.inf)
    order = np.argsort(-masked, axis=1, kind='stable')
    mask = np.zeros_like(pre)
    np.put_along_axis(mask, order[:, :k_aux], 1.0, axis=1)
    mask *= pre > 0
    s = -np.sort(-masked, axis=1)
    gap = float(np.min(s[:, k_aux - 1] - s[:, k_aux])) if k_aux < n_dead else np.inf
    gap = min(gap, float(np.min(np.abs(s[:, :k_aux]))))  # ReLU after the selection
    scale = c['auxAlpha'] * min(n_dead / c['auxK'], 1.0)
    return mask, scale, gap


def loss(c, P, x, mask, aux_mask, aux_scale, e_const, denom):
    """The objective of §2.1 + §3 with the selections held fixed (the masks are constants)."""
    pre = (x - P['bDec']) @ P['wEnc'] + P['bEnc']
    f = pre * mask
    prefix_mse = []
    total = 0.0
    for p, w in zip(c['prefixes'], c['prefixWeights']):
        xhat = f[:, :p] @ P['wDec'][:p] + P['bDec']
        mse = float(np.mean(np.sum((x - xhat) ** 2, axis=1)))
        prefix_mse.append(mse)
        total += w * mse
    aux = 0.0
    if aux_mask is not None and denom > 0 and np.isfinite(denom):
        ehat = (pre * aux_mask) @ P['wDec']  # no b_dec
        aux = aux_scale * float(np.mean(np.sum((ehat - e_const) ** 2, axis=1))) / denom
    return total + aux, prefix_mse, aux


def gradients(c, P, x, mask, aux_mask, aux_scale, e_const, denom):
    """∂L/∂(W_enc, b_enc, W_dec, b_dec) of `loss`, derived by hand for the dense form."""
    B = x.shape[0]
    xc = x - P['bDec']
    pre = xc @ P['wEnc'] + P['bEnc']
    f = pre * mask
    g_wdec = np.zeros_like(P['wDec'])
    g_bdec = np.zeros_like(P['bDec'])
    g_f = np.zeros_like(f)
    for p, w in zip(c['prefixes'], c['prefixWeights']):
        r = (f[:, :p] @ P['wDec'][:p] + P['bDec'] - x) * (2 * w / B)  # ∂(w·mean_b‖x̂_p − x‖²)/∂x̂_p
        g_wdec[:p] += f[:, :p].T @ r
        g_bdec += r.sum(axis=0)
        g_f[:, :p] += r @ P['wDec'][:p].T
    g_pre = g_f * mask
    if aux_mask is not None and denom > 0 and np.isfinite(denom):
        z = pre * aux_mask
        r = (z @ P['wDec'] - e_const) * (2 * aux_scale / (denom * B))
        g_wdec += z.T @ r
        g_pre += (r @ P['wDec'].T) * aux_mask
    g_wenc = xc.T @ g_pre
    g_benc = g_pre.sum(axis=0)
    g_bdec -= P['wEnc'] @ g_benc  # b_dec is also subtracted from the encoder's input
    return {'wEnc': g_wenc, 'bEnc': g_benc, 'wDec': g_wdec, 'bDec': g_bdec}


def finite_difference_error(c, P, x, masks, G, h=1e-6):
    """max |analytic − central difference| over every parameter entry, relative to max |G|."""
    worst = 0.0
    scale = max(float(np.max(np.abs(G[k]))) for k in KEYS)
    for key in KEYS:
        a = P[key].reshape(-1)
        g = G[key].reshape(-1)
        for i in range(a.size):
            old = a[i]
            a[i] = old + h
            up = loss(c, P, x, *masks)[0]
            a[i] = old - h
            down = loss(c, P, x, *masks)[0]
            a[i] = old
            worst = max(worst, abs((up - down) / (2 * h) - g[i]))
    return worst / scale


def train_step(c, P, S, x, check_gradients):
    """One step in the order of §4.3, then the trainer's bookkeeping (§3 counters)."""
    B = x.shape[0]
    s = S['step']
    dead = S['tokensSinceFired'] >= c['deadTokens']  # decided before the step
    pre = (x - P['bDec']) @ P['wEnc'] + P['bEnc']
    mask, gap, min_kept = select(c, pre)
    aux_mask, aux_scale, aux_gap = select_aux(c, pre, dead)
    # AuxK target: the full reconstruction's residual, a constant, and its batch variance
    e_const = x - ((pre * mask) @ P['wDec'] + P['bDec'])
    denom = float(np.mean(np.sum((e_const - e_const.mean(axis=0)) ** 2, axis=1)))
    masks = (mask, aux_mask, aux_scale, e_const, denom)
    # 1. loss and gradients, the selections held fixed
    total, prefix_mse, aux = loss(c, P, x, *masks)
    G = gradients(c, P, x, *masks)
    fd = finite_difference_error(c, {k: v.copy() for k, v in P.items()}, x, masks, G) if check_gradients else None

    # 2. remove each decoder row's radial component
    W = P['wDec']
    G['wDec'] = G['wDec'] - (np.sum(G['wDec'] * W, axis=1) / np.sum(W * W, axis=1))[:, None] * W
    # 3. clip the global norm
    norm = float(np.sqrt(sum(np.sum(G[k] ** 2) for k in KEYS)))
    if c['clipNorm'] > 0 and norm > c['clipNorm']:
        G = {k: v * (c['clipNorm'] / norm) for k, v in G.items()}
    # 4. Adam with bias correction, t = s + 1
    lr = learning_rate(c, s)
    b1, b2, t = c['beta1'], c['beta2'], s + 1
    for k in KEYS:
        S['adamM'][k] = b1 * S['adamM'][k] + (1 - b1) * G[k]
        S['adamV'][k] = b2 * S['adamV'][k] + (1 - b2) * G[k] ** 2
        mhat = S['adamM'][k] / (1 - b1 ** t)
        vhat = S['adamV'][k] / (1 - b2 ** t)
        P[k] = P[k] - lr * mhat / (np.sqrt(vhat) + c['eps'])
    # 5. decoder rows back to unit norm
    P['wDec'] = P['wDec'] / np.linalg.norm(P['wDec'], axis=1, keepdims=True)

    # bookkeeping: every latent ages by B samples; those active in the training code restart at 0
    S['tokensSinceFired'] = S['tokensSinceFired'] + B
    S['tokensSinceFired'][mask.sum(axis=0) > 0] = 0
    S['step'] = s + 1

    return {
        'learningRate': lr,
        'dead': int(dead.sum()),
        'deadLatents': np.flatnonzero(dead).tolist(),
        'overlap': int(np.sum(mask * aux_mask)) if aux_mask is not None else 0,
        'auxScale': aux_scale,
        'losses': {'total': total, 'prefixMse': prefix_mse, 'aux': aux},
        'gradNorm': norm,
        # how close the float32 side could come to another selection (order or ReLU sign)
        'selectionGap': min(gap, aux_gap),
        'finiteDifferenceError': fd,
        'params': {k: P[k].reshape(-1).tolist() for k in KEYS},
        'adamM': {k: S['adamM'][k].reshape(-1).tolist() for k in KEYS},
        'adamV': {k: S['adamV'][k].reshape(-1).tolist() for k in KEYS},
        'tokensSinceFired': S['tokensSinceFired'].tolist(),
        'minKept': min_kept,  # BatchTopK: the smallest kept activation, θ's first estimate (§1.4)
    }


def run(c):
    d, m = c['dIn'], c['dSae']
    shapes = {'wEnc': (d, m), 'bEnc': (m,), 'wDec': (m, d), 'bDec': (d,)}
    arr = lambda v, k: np.array(v, dtype=np.float64).reshape(shapes[k])
    init = c['init']
    P = {k: arr(init['params'][k], k) for k in KEYS}
    S = {
        'step': init['step'],
        'adamM': {k: arr(init['adamM'][k], k) for k in KEYS},
        'adamV': {k: arr(init['adamV'][k], k) for k in KEYS},
        'tokensSinceFired': np.array(init['tokensSinceFired'], dtype=np.float64),
    }
    out = []
    for i, batch in enumerate(c['batches']):
        x = np.array(batch, dtype=np.float64).reshape(-1, d)
        out.append(train_step(c, P, S, x, check_gradients=i == 0))
    return out


if __name__ == '__main__':
    inp = json.loads(sys.stdin.read())
    print(json.dumps({'results': [run(c) for c in inp['configs']]}))
