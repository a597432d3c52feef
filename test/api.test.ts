// The public API: the namespaces of src/index.ts, a short top level, and every exported
// function documented with an example (CONTRIBUTING.md, "Doc comments").
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { publicNames } from './helpers/api-docs.js';

const ROOT = join(import.meta.dirname, '..');
const names = publicNames(ROOT).filter((n) => !n.name.startsWith('tf.')); // tfjs documents its own
const NAMESPACES = ['sae', 'rsa', 'topology', 'similarity', 'mrl', 'models', 'data', 'plot', 'figures', 'report', 'backend'];

describe('the public API', () => {
  it('opens with the namespaces and keeps the top level short (at most 40 names)', () => {
    const top = [...new Set(names.map((n) => n.name.split('.')[0]))];
    for (const ns of NAMESPACES) expect(top).toContain(ns);
    expect(top.length).toBeLessThanOrEqual(40);
  });

  it('exports no internals: nothing from a module-private helper file', () => {
    const internal = names.filter((n) => /src\/(sae\/(step|simd|state)|similarity\/common|math\/(order|linalg|special|assignment|union-find))\.ts$/.test(n.file) && n.kind !== 'type');
    expect(internal.map((n) => n.name)).toEqual([]);
  });

  it('documents every exported function and class, with an @example', () => {
    const missing = names.filter((n) => (n.kind === 'function' || n.kind === 'class') && (n.doc.trim() === '' || n.examples.length === 0));
    expect(missing.map((n) => `${n.name} (${n.file})`)).toEqual([]);
  });

  it('documents every exported type and value', () => {
    const missing = names.filter((n) => (n.kind === 'type' || n.kind === 'value') && n.doc.trim() === '');
    expect(missing.map((n) => `${n.name} (${n.file})`)).toEqual([]);
  });
});
