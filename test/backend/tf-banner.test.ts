// tfjs' "Hi, looks like you are running TensorFlow.js in Node.js" banner stays out of notebook
// output, the CLI and test logs: src/backend/tf.ts turns on tfjs' PROD flag (tf.enableProdMode()).
import { describe, it, expect, vi } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { selectBackend } from '../../src/backend/select.js';

const BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

/** Captures what console.warn/log/info/error print until restore(). */
function captureConsole(): { text: () => string; restore: () => void } {
  const lines: string[] = [];
  const spies = (['warn', 'log', 'info', 'error'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    }),
  );
  return { text: () => lines.join('\n'), restore: () => spies.forEach((s) => s.mockRestore()) };
}

/** Stores a first tensor on a fresh MathBackendCPU registered as `name`, and computes with it. */
async function firstTensorOnFreshCpu(name: string): Promise<number[]> {
  const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
  tf.registerBackend(name, () => new Cpu(), 0);
  const previous = tf.getBackend();
  try {
    await tf.setBackend(name);
    const t = tf.tensor1d([1, 2, 3]); // the write that prints the banner on a backend's first use
    const values = Array.from(t.dataSync());
    t.dispose();
    return values;
  } finally {
    await tf.setBackend(previous);
    tf.removeBackend(name);
  }
}

describe("tfjs' Node.js banner", () => {
  it('does not appear when the cpu backend stores its first tensor (nestlab selecting the backend)', async () => {
    const out = captureConsole();
    let sum: number[];
    try {
      await selectBackend('cpu');
      expect(tf.getBackend()).toBe('cpu');
      const t = tf.tensor1d([1, 2, 3]); // this process's first tensor on the cpu backend
      sum = Array.from(await t.square().sum().data());
      t.dispose();
    } finally {
      out.restore();
    }
    expect(out.text()).not.toMatch(BANNER);
    expect(sum).toEqual([14]);
    // backend selection turns PROD off while it switches (so init failures print) and back on
    expect(tf.env().getBool('PROD')).toBe(true);
  });

  it('would appear without the PROD flag (the capture above can see it)', async () => {
    const out = captureConsole();
    const prod = tf.env().getBool('PROD');
    try {
      tf.env().set('PROD', false);
      expect(await firstTensorOnFreshCpu('cpu-banner-control')).toEqual([1, 2, 3]);
    } finally {
      tf.env().set('PROD', prod);
      out.restore();
    }
    expect(out.text()).toMatch(BANNER);
  });

  it('does not appear on a fresh cpu backend with the flag nestlab sets', async () => {
    const out = captureConsole();
    try {
      expect(await firstTensorOnFreshCpu('cpu-banner-quiet')).toEqual([1, 2, 3]);
    } finally {
      out.restore();
    }
    expect(out.text()).not.toMatch(BANNER);
  });
});
