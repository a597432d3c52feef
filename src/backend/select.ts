/**
 * Picks the TensorFlow.js backend at start-up and reports why.
 *
 * Order (docs/methods/compute.md §1): tensorflow (native libtensorflow through
 * @tensorflow/tfjs-node-gpu or -node, optional dependencies that are never imported statically)
 * -> webgpu (tfjs-backend-webgpu on Dawn's `webgpu` node binding, when an adapter is found)
 * -> wasm (XNNPACK, SIMD; the CPU default) -> cpu (pure JS, last resort).
 * `NESTLAB_BACKEND` forces one; a forced backend that cannot start is an error naming the reason,
 * never a silent fall-back.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from './tf.js';
import { NestlabArgumentError, NestlabBackendError } from '../errors.js';
import { blasStatus, loadBlas } from './blas.js';
import { useBlasForWasmMatMul } from './wasm-matmul.js';
import { useBlasForWasmConv } from './wasm-conv.js';

/** The tfjs backends nestlab can run on, in the order auto-selection tries them (docs/methods/compute.md §1). */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
/** One of BACKEND_NAMES: a value NESTLAB_BACKEND accepts. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a backend loader found: a line of detail for `nestlab doctor` (adapter, package...). */
export interface BackendProbe {
  /** One line, e.g. 'adapter: nvidia hopper' or 'SIMD on, multithreading off; ...'. */
  detail: string;
}

/** Makes a backend usable and selects it in tfjs, or throws an Error whose message says why not. */
export type BackendLoader = () => Promise<BackendProbe>;

/** The outcome of backend selection, as `nestlab doctor` prints it. */
export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** 'forced by NESTLAB_BACKEND' or 'auto'. */
  how: 'forced' | 'auto';
  /** The loader's detail line for the chosen backend. */
  detail: string;
  /** Backends tried before it, with the reason each was skipped. */
  skipped: { name: BackendName; reason: string }[];
}

const requireHere = createRequire(import.meta.url);

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0].slice(0, 300);
}

async function setTfBackend(name: string): Promise<void> {
  // tf.ts turns tfjs' PROD flag on to hide its Node.js banner; PROD would also hide tfjs' own
  // account of why a backend failed to initialize, so it is off while we switch.
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', false);
  try {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tf.setBackend('${name}') returned false (the backend failed to initialize)`);
    await tf.ready();
  } finally {
    tf.env().set('PROD', prod);
  }
}

/** libtensorflow through tfjs-node-gpu (CUDA) or tfjs-node; both optional and loaded lazily. */
async function loadTensorflow(): Promise<BackendProbe> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
    } catch (e) {
      reasons.push(`${pkg}: ${errorText(e)}`);
      continue;
    }
    // danfojs-node's override maps '@tensorflow/tfjs-node' to the plain tfjs bundle, which
    // imports fine but registers no 'tensorflow' backend: only a real binding counts.
    if (tf.findBackendFactory('tensorflow') == null) {
      reasons.push(`${pkg}: imported, but it registered no 'tensorflow' backend (not the native binding)`);
      continue;
    }
    await setTfBackend('tensorflow');
    return { detail: `${pkg} (libtensorflow)` };
  }
  throw new Error(`no native TensorFlow binding: ${reasons.join('; ')}`);
}

/** WebGPU through Dawn's node binding (docs/methods/compute.md §2): set navigator.gpu, register ourselves. */
async function loadWebgpu(): Promise<BackendProbe> {
  let dawn: { create: (flags: string[]) => GpuLike; globals: object };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    throw new Error(`the 'webgpu' package (Dawn) did not load: ${errorText(e)}`);
  }
  Object.assign(globalThis, dawn.globals);
  // NESTLAB_DAWN_FLAGS passes Dawn toggles (e.g. "backend=opengles" for Mesa's llvmpipe on a
  // machine without a GPU); NESTLAB_WEBGPU_COMPAT=1 asks for a compatibility-mode adapter,
  // which that GL ES route needs. Both serve correctness tests; real GPUs need neither.
  const flags = (process.env.NESTLAB_DAWN_FLAGS ?? '').split(',').filter((f) => f.length > 0);
  const raw = dawn.create(flags);
  const compat = process.env.NESTLAB_WEBGPU_COMPAT === '1';
  const gpu: GpuLike = compat
    ? { requestAdapter: (o?: object) => raw.requestAdapter({ ...(o ?? {}), featureLevel: 'compatibility' }), getPreferredCanvasFormat: () => 'rgba8unorm' }
    : raw;
  const adapter = await gpu.requestAdapter();
  if (adapter == null) {
    throw new Error(`Dawn found no WebGPU adapter (no GPU with a Vulkan driver Dawn accepts${flags.length ? `; flags ${flags.join(',')}` : ''})`);
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  await setTfBackend('webgpu');
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return { detail: `adapter: ${name || 'unnamed adapter'}${compat ? ' (compatibility mode)' : ''}` };
}

interface GpuLike {
  requestAdapter(options?: object): Promise<{ info?: Record<string, string> } | null>;
  getPreferredCanvasFormat?(): string;
}

/**
 * XNNPACK WebAssembly with SIMD: the default on CPU. Its matrix products run on the system BLAS
 * when nblas loaded (wasm-matmul.ts), on all cores; `NESTLAB_BLAS=off` keeps them on XNNPACK.
 */
async function loadWasm(): Promise<BackendProbe> {
  await import('@tensorflow/tfjs-backend-wasm');
  await setTfBackend('wasm');
  useBlasForWasmMatMul(loadBlas());
  useBlasForWasmConv(loadBlas()); // convolutions on the same BLAS; the filter gradient tfjs-backend-wasm lacks either way
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  const blas = blasStatus();
  const matmul = blas.loaded ? `matMul on BLAS (${blas.detail})` : `matMul on XNNPACK: ${blas.detail}`;
  return { detail: `SIMD ${simd ? 'on' : 'off'}, multithreading ${threads ? 'on' : 'off'}; ${matmul}` };
}

/** The pure-JS reference backend. */
async function loadCpu(): Promise<BackendProbe> {
  await setTfBackend('cpu');
  return { detail: 'pure JavaScript (slow: last resort)' };
}

/** The backend in use, as initBackend reports it (set by the last real selection). */
let current: Promise<BackendInfo> | null = null;

/** The real loaders, in preference order. */
export const DEFAULT_LOADERS: Record<BackendName, BackendLoader> = {
  tensorflow: loadTensorflow,
  webgpu: loadWebgpu,
  wasm: loadWasm,
  cpu: loadCpu,
};

/**
 * Selects a backend: the forced one (must start, else throws), or the first of BACKEND_NAMES
 * whose loader succeeds. `loaders` is injectable so tests can simulate missing hardware.
 *
 * @example const info = await backend.selectBackend('cpu'); // switch to the pure-JS backend now; throws if it cannot start
 */
export async function selectBackend(
  forced: string | undefined,
  loaders: Record<BackendName, BackendLoader> = DEFAULT_LOADERS,
): Promise<BackendInfo> {
  const info = await pickBackend(forced, loaders);
  // With the real loaders the choice is now tfjs' backend: initBackend must report it, not an older one.
  if (loaders === DEFAULT_LOADERS) current = Promise.resolve(info);
  return info;
}

/** Whether the Vulkan loader Dawn needs is on the library path (Linux); elsewhere assume it is. */
function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/lib', '/usr/local/lib'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

async function pickBackend(forced: string | undefined, loaders: Record<BackendName, BackendLoader>): Promise<BackendInfo> {
  if (forced !== undefined && forced !== '') {
    if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
      throw new NestlabArgumentError('backend.selectBackend', 'NESTLAB_BACKEND', `one of ${BACKEND_NAMES.join(', ')}`, forced);
    }
    const name = forced as BackendName;
    try {
      const probe = await loaders[name]();
      return { name, how: 'forced', detail: probe.detail, skipped: [] };
    } catch (e) {
      throw new NestlabBackendError('backend.initBackend', `NESTLAB_BACKEND=${name} was forced, but the ${name} backend cannot start: ${errorText(e)}`);
    }
  }
  const skipped: BackendInfo['skipped'] = [];
  for (const name of BACKEND_NAMES) {
    // Dawn prints a warning to stderr when it finds no Vulkan loader: on a machine without one
    // (and without Dawn flags for another route), skip webgpu quietly; forcing it still tries.
    if (name === 'webgpu' && loaders === DEFAULT_LOADERS && !process.env.NESTLAB_DAWN_FLAGS && !vulkanLoaderFound()) {
      skipped.push({ name, reason: 'no Vulkan loader (libvulkan.so.1) on the library path, so no GPU adapter for Dawn' });
      continue;
    }
    try {
      const probe = await loaders[name]();
      return { name, how: 'auto', detail: probe.detail, skipped };
    } catch (e) {
      skipped.push({ name, reason: errorText(e) });
    }
  }
  throw new NestlabBackendError('backend.initBackend', `no tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/**
 * Initializes the backend once per process (reading NESTLAB_BACKEND) and returns what was chosen.
 * Every entry point that computes calls this first; later calls return the same answer.
 *
 * @example const info = await backend.initBackend(); // { name: 'wasm', how: 'auto', detail: 'SIMD on, ...', skipped: [...] }
 */
export function initBackend(): Promise<BackendInfo> {
  if (current === null) {
    current = selectBackend(process.env.NESTLAB_BACKEND);
    current.catch(() => {
      current = null; // let a corrected environment retry
    });
  }
  return current;
}

/**
 * Installed version of a package, or null when it is not installed (for `nestlab doctor`). Reads
 * node_modules/<pkg>/package.json along Node's lookup paths: packages whose "exports" hide
 * ./package.json (vega, vega-lite) cannot be require()d for it.
 */
export function packageVersion(pkg: string): string | null {
  for (const base of requireHere.resolve.paths(pkg) ?? []) {
    const path = join(base, pkg, 'package.json');
    if (existsSync(path)) return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  }
  return null;
}
