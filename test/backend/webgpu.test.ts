// WebGPU correctness on a machine without a GPU: Dawn's GL ES backend on Mesa's llvmpipe gives a
// compatibility-mode adapter (docs/methods/compute.md §4), enough to check that the webgpu backend computes
// what the cpu backend computes. Skips cleanly where no such adapter answers.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const res = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(import.meta.dirname, 'webgpu-parity.ts')], {
  encoding: 'utf8',
  env: { ...process.env, NESTLAB_DAWN_FLAGS: 'backend=opengles', NESTLAB_WEBGPU_COMPAT: '1', EGL_PLATFORM: 'surfaceless' },
  timeout: 170_000,
});
const last = (res.stdout ?? '').trim().split('\n').slice(-1)[0] ?? '';
const report = (last.startsWith('{') ? JSON.parse(last) : { adapter: false, reason: `no report: ${res.stderr?.slice(-300)}` }) as {
  adapter: boolean;
  reason?: string;
  diffs?: Record<string, number>;
};

describe('webgpu backend on a software adapter', () => {
  it.skipIf(!report.adapter)('matches the cpu backend on matMul, distances, gradients and topk', () => {
    const d = report.diffs!;
    expect(d.matMul).toBeLessThan(1e-4);
    expect(d.sqDist).toBeLessThan(1e-3); // entries ~ 200: float32 rounding
    expect(d.grad).toBeLessThan(1e-5);
    expect(d.topkValues).toBeLessThan(1e-4);
    expect(d.topkIndices).toBe(0);
  });

  it('reports why when no adapter answers (and never crashes the process)', () => {
    expect(res.status).toBe(0);
    if (!report.adapter) expect(report.reason).toMatch(/adapter|webgpu|Dawn/i);
  });
});
