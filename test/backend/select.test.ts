import { describe, it, expect } from 'vitest';
import { selectBackend, BACKEND_NAMES, type BackendLoader, type BackendName } from '../../src/backend/select.js';
import { existsSync } from 'node:fs';
import { NestlabArgumentError, NestlabBackendError } from '../../src/errors.js';

/** Fake loaders: `available` start, the others throw a reason naming themselves. */
function fakeLoaders(available: BackendName[]): Record<BackendName, BackendLoader> {
  const out = {} as Record<BackendName, BackendLoader>;
  for (const name of BACKEND_NAMES) {
    out[name] = async () => {
      if (!available.includes(name)) throw new Error(`${name} is not here`);
      return { detail: `${name} ok` };
    };
  }
  return out;
}

describe('backend selection', () => {
  it('prefers tensorflow, then webgpu, then wasm, then cpu', async () => {
    expect((await selectBackend(undefined, fakeLoaders(['tensorflow', 'wasm']))).name).toBe('tensorflow');
    expect((await selectBackend(undefined, fakeLoaders(['webgpu', 'wasm', 'cpu']))).name).toBe('webgpu');
    const info = await selectBackend(undefined, fakeLoaders(['wasm', 'cpu']));
    expect(info.name).toBe('wasm');
    expect(info.how).toBe('auto');
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    expect(info.skipped[1].reason).toContain('webgpu is not here');
  });

  it('honors a forced backend even when a preferred one is available', async () => {
    const info = await selectBackend('cpu', fakeLoaders(['tensorflow', 'cpu']));
    expect(info).toMatchObject({ name: 'cpu', how: 'forced' });
  });

  it('rejects an unknown forced backend, naming NESTLAB_BACKEND and the choices', async () => {
    await expect(selectBackend('cuda', fakeLoaders(['cpu']))).rejects.toThrow(NestlabArgumentError);
    await expect(selectBackend('cuda', fakeLoaders(['cpu']))).rejects.toThrow(/NESTLAB_BACKEND must be one of tensorflow, webgpu, wasm, cpu, got cuda/);
  });

  it('fails loudly, with the reason, when a forced backend cannot start (no silent fall-back)', async () => {
    await expect(selectBackend('webgpu', fakeLoaders(['wasm']))).rejects.toThrow(/NESTLAB_BACKEND=webgpu was forced.*webgpu is not here/);
    await expect(selectBackend('webgpu', fakeLoaders(['wasm']))).rejects.toThrow(NestlabBackendError);
  });

  it('says why when nothing starts at all', async () => {
    await expect(selectBackend(undefined, fakeLoaders([]))).rejects.toThrow(/no tfjs backend could start: tensorflow: .*cpu: cpu is not here/);
  });

  it('on a machine without libtensorflow or a GPU adapter, auto-selects wasm with SIMD', async () => {
    const info = await selectBackend(undefined);
    if (info.name !== 'wasm') return; // a machine with a GPU or libtensorflow: covered by the cases above
    expect(info.detail).toContain('SIMD on');
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    expect(info.skipped[0].reason).toMatch(/tfjs-node/);
    // Without a Vulkan loader webgpu is skipped before Dawn is loaded (Dawn would warn on stderr).
    if (!existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') && !process.env.NESTLAB_DAWN_FLAGS) {
      expect(info.skipped[1].reason).toMatch(/no Vulkan loader \(libvulkan.so.1\)/);
    }
  });

  it('forcing the real tensorflow backend without the native binding gives a clear error', async () => {
    const info = await selectBackend(undefined);
    if (info.name === 'tensorflow') return;
    await expect(selectBackend('tensorflow')).rejects.toThrow(/NESTLAB_BACKEND=tensorflow was forced, but the tensorflow backend cannot start: no native TensorFlow binding/);
    await selectBackend(info.name); // restore
  });
});

describe('initBackend after a manual switch', () => {
  it('reports the backend tfjs is really using', async () => {
    const { initBackend } = await import('../../src/backend/select.js');
    const { tf } = await import('../../src/backend/tf.js');
    await initBackend();
    await selectBackend('cpu');
    expect((await initBackend()).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await selectBackend(undefined);
    expect((await initBackend()).name).toBe(tf.getBackend());
  });
});
