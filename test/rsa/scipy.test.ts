import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { computeRdm } from '../../src/rsa/rdm.js';
import { compareRdms } from '../../src/rsa/compare.js';

// Cross-check against Debian's scipy (/usr/bin/python3) on random data; skipped if it is absent.
const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasScipy = spawnSync(PY, ['-c', 'import scipy.spatial, scipy.stats'], { encoding: 'utf8' }).status === 0;

const SCRIPT = `
import json, sys
import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr, kendalltau
inp = json.loads(sys.stdin.read())
x = np.array(inp['x'], dtype=np.float32).astype(np.float64).reshape(inp['n'], inp['p'])
t = np.array(inp['ties'], dtype=np.float64)
out = {
  'euclidean': (pdist(x, 'sqeuclidean') / inp['p']).tolist(),
  'plain': pdist(x, 'euclidean').tolist(),
  'correlation': pdist(x, 'correlation').tolist(),
  'cosine': pdist(x, 'cosine').tolist(),
}
e, c = np.array(out['euclidean']), np.array(out['correlation'])
out['spearman'] = spearmanr(e, c).correlation
out['kendall'] = kendalltau(e, c).correlation
out['spearman_ties'] = spearmanr(t, e).correlation
out['kendall_ties'] = kendalltau(t, e).correlation
print(json.dumps(out))
`;

describe.skipIf(!hasScipy)('agreement with scipy on random data (1e-5)', () => {
  let peer: Record<string, number[] | number>;
  let x: Float32Array;
  let ties: number[];
  const n = 80;
  const p = 24;
  beforeAll(async () => {
    await initBackend();
    const rng = new Rng(11);
    x = new Float32Array(n * p).map(() => rng.normal() + 0.5);
    const m = (n * (n - 1)) / 2;
    ties = Array.from({ length: m }, () => rng.int(7)); // heavy ties
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify({ x: Array.from(x), n, p, ties }), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  });

  const expectClose = (rdm: { values: Float64Array }, want: number[]) => {
    const got = rdm.values;
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    expect(worst).toBeLessThan(1e-5);
  };

  it('RDMs equal pdist (sqeuclidean / P, euclidean, correlation, cosine)', async () => {
    const m = { data: x, rows: n, cols: p };
    expectClose(await computeRdm(m), peer.euclidean as number[]);
    expectClose(await computeRdm(m, { method: 'plain_euclidean' }), peer.plain as number[]);
    expectClose(await computeRdm(m, { method: 'correlation' }), peer.correlation as number[]);
    expectClose(await computeRdm(m, { method: 'cosine' }), peer.cosine as number[]);
  });

  it('Spearman and Kendall tau-b equal spearmanr / kendalltau, with and without ties', () => {
    const e = peer.euclidean as number[];
    const c = peer.correlation as number[];
    expect(Math.abs(compareRdms(e, c, { method: 'spearman' }) - (peer.spearman as number))).toBeLessThan(1e-5);
    expect(Math.abs(compareRdms(e, c, { method: 'tau-b' }) - (peer.kendall as number))).toBeLessThan(1e-5);
    expect(Math.abs(compareRdms(ties, e, { method: 'spearman' }) - (peer.spearman_ties as number))).toBeLessThan(1e-5);
    expect(Math.abs(compareRdms(ties, e, { method: 'tau-b' }) - (peer.kendall_ties as number))).toBeLessThan(1e-5);
  });
});
