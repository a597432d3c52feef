/**
 * nestlab's errors and the argument validation shared by every exported function.
 *
 * One hierarchy: every error nestlab raises on purpose is a `NestlabError`, whose message starts
 * with the function the user called (`where`). Bad input is a `NestlabArgumentError` naming the
 * argument and what was expected, so a notebook user can fix the call without reading the
 * source: `data.loadMnist: options.testSize must be an integer in [1, 9999], got 0`. A
 * computation that cannot go on (a matrix that is not positive definite, a loss that became NaN)
 * is a `NestlabComputationError`; a compute backend that cannot start is a `NestlabBackendError`;
 * a file that cannot be written (a full or read-only disk) is a `NestlabIoError` naming the path.
 */

/**
 * The base of every error nestlab raises on purpose; `where` is the function the user called.
 * Catch this one class to tell nestlab's own errors from bugs elsewhere; subclasses say what kind.
 *
 * @example try { data.loadMnist({ testSize: 0 }); } catch (e) { if (e instanceof NestlabError) console.log(e.where); } // 'data.loadMnist'
 */
export class NestlabError extends Error {
  constructor(
    readonly where: string,
    /** The message without its `where: ` prefix (to re-raise it under another name). */
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'NestlabError';
  }
}

/**
 * Bad input: `argument` names the offending argument, `expected` what it must be.
 * The message reads `<where>: <argument> must be <expected>, got <got>`.
 *
 * @example try { data.loadMnist({ testSize: 0 }); } catch (e) { if (e instanceof NestlabArgumentError) console.log(e.argument, e.expected); } // 'options.testSize', 'an integer in [1, 9999]'
 */
export class NestlabArgumentError extends NestlabError {
  constructor(
    where: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(where, `${argument} must be ${expected}, got ${describe(got)}`);
    this.name = 'NestlabArgumentError';
  }
}

/**
 * A computation that cannot continue on valid input (not positive definite, no convergence, divergence).
 * Raised e.g. by `sae.train` when the loss stops being finite, or by a Cholesky factorization of a
 * matrix that is not positive definite; changing the input or the settings, not the call, fixes it.
 *
 * @example try { await sae.train(x, { architecture: { dIn: 784, dSae: 256 } }); } catch (e) { if (e instanceof NestlabComputationError) console.log(e.message); } // e.g. 'sae.train: the loss became NaN at step 12 ...'
 */
export class NestlabComputationError extends NestlabError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'NestlabComputationError';
  }
}

/**
 * A compute backend (or a library it needs) that cannot start: what `backend.initBackend` throws
 * when a forced backend fails or none starts, with the reasons.
 *
 * @example try { await backend.initBackend(); } catch (e) { if (e instanceof NestlabBackendError) console.log(e.message); }
 */
export class NestlabBackendError extends NestlabError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'NestlabBackendError';
  }
}

/**
 * A file or folder that cannot be written or created: a full disk, a read-only folder, missing
 * permissions. `path` is the file, `code` the system's error code (ENOSPC, EROFS, EACCES...).
 * Nothing under the final name is half-written when it is thrown (writes are atomic).
 *
 * @example try { await sae.train(x, { architecture, checkpointDir: '/mnt/full' }); } catch (e) { if (e instanceof NestlabIoError) console.log(e.path, e.code); }
 */
export class NestlabIoError extends NestlabError {
  constructor(
    where: string,
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(where, message);
    this.name = 'NestlabIoError';
  }
}

/** A short, readable rendering of a bad value for error messages (strings as they are). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  return `a ${typeof value}`;
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(where: string, argument: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new NestlabArgumentError(where, argument, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

/** Throws unless `value` is a finite number in [min, max]. */
export function checkNumber(where: string, argument: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new NestlabArgumentError(where, argument, `a finite number in [${min}, ${max}]`, value);
  }
  return value;
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(where: string, argument: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new NestlabArgumentError(where, argument, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

/**
 * Rejects option keys that the function does not know (a typo such as `{sead: 1}` would
 * otherwise silently fall back to the default).
 */
export function checkKnownKeys(where: string, options: object | undefined, known: readonly string[], argument = 'options'): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new NestlabArgumentError(where, argument, 'an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new NestlabArgumentError(where, `${argument}.${key}`, `one of the known options (${known.join(', ')})`, key);
    }
  }
}

/** Throws unless every entry of `values` is finite; reports the first bad index. */
export function checkFinite(where: string, argument: string, values: ArrayLike<number>): void {
  // Fast pass: v * 0 is (+/-)0 for finite v and NaN otherwise, so the sum stays 0 exactly when all
  // are finite (about 2x faster than a Number.isFinite test per entry); the slow pass finds which.
  const n = values.length;
  let acc = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) acc += values[i] * 0 + values[i + 1] * 0 + values[i + 2] * 0 + values[i + 3] * 0;
  for (; i < n; i++) acc += values[i] * 0;
  if (acc === 0) return;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new NestlabArgumentError(where, argument, 'finite numbers only', `${values[i]} at index ${i}`);
    }
  }
}

/** Throws unless `y` is an Int32Array of `n` class labels in [0, classes). */
export function checkLabels(where: string, y: unknown, n: number, classes: number): Int32Array {
  if (!(y instanceof Int32Array) || y.length !== n) {
    throw new NestlabArgumentError(where, 'y', `an Int32Array of ${n} labels (one per row of x)`, y);
  }
  for (let i = 0; i < n; i++) {
    if (y[i] < 0 || y[i] >= classes) throw new NestlabArgumentError(where, `y[${i}]`, `a class in [0, ${classes})`, y[i]);
  }
  return y;
}
