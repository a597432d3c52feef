/**
 * The one seeded random number generator used everywhere in nestlab.
 *
 * xoshiro128** (Blackman & Vigna 2018) seeded through splitmix32, so that nearby seeds give
 * unrelated streams. Written by hand because it is ten lines and every random step of the
 * library (splits, shuffles, initializations, noise, UMAP) must be reproducible from one seed
 * on every backend, which Math.random and tfjs' own per-op seeds are not.
 */
import { checkInt } from '../errors.js';

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded stream of random numbers: uniform, normal, integers, permutations.
 * xoshiro128** (Blackman & Vigna 2018) seeded by splitmix32; normals by Box–Muller, permutations
 * by Fisher–Yates. Also exported at the top level as `Rng`.
 *
 * @example const order = new backend.Rng(0).permutation(10); // the same permutation of 0..9 for seed 0 on every machine
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  /** @param seed any integer; the same seed gives the same stream. */
  constructor(readonly seed = 0) {
    checkInt('Rng', 'seed', seed, -(2 ** 53), 2 ** 53);
    const mix = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
    this.s0 = mix() | 0;
    this.s1 = mix() | 0;
    this.s2 = mix() | 0;
    this.s3 = mix() | 0;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    // State kept as int32 (Smi) fields: the same bits as uint32, without boxed doubles.
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const s2 = this.s2 ^ this.s0;
    const s3 = this.s3 ^ s1;
    this.s1 = s1 ^ s2;
    this.s0 = this.s0 ^ s3;
    this.s2 = s2 ^ t;
    this.s3 = rotl(s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal draw (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    checkInt('Rng.int', 'n', n, 1, 2 ** 32);
    return Math.floor(this.uniform() * n);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    checkInt('Rng.permutation', 'n', n, 0, 2 ** 32 - 1);
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /** Float32Array of `n` standard normals times `scale`. */
  normalArray(n: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * scale;
    return out;
  }

  /** A new generator whose stream is independent of this one (for handing to a sub-step). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  /** A function () => [0,1) for libraries that take one (umap-js `random`). */
  asFunction(): () => number {
    return () => this.uniform();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
