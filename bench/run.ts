/**
 * `npm run bench [names...]`: runs the named benchmarks (default: all `bench/*.bench.ts`), each
 * side by side with its peer, and writes bench/results/<name>.json. With more than one, each runs
 * in a process of its own, one after the other, as a user would run it: memory, compiled code and
 * worker threads left by one benchmark do not slow the next.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, machineFacts, writeRecord, type Benchmark } from './lib.js';
import { selectBackend } from '../src/backend/select.js';

const files = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.bench.ts')).sort();
const benchmarks: Benchmark[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(BENCH_DIR, f)).href)) as { benchmark: Benchmark };
  benchmarks.push(mod.benchmark);
}
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !benchmarks.some((b) => b.name === w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const chosen = benchmarks.filter((x) => wanted.length === 0 || wanted.includes(x.name));
if (chosen.length > 1) {
  for (const b of chosen) {
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], b.name], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  }
  process.exit();
}
machineFacts(); // page-fault cost measured before the benchmark has touched memory
for (const b of chosen) {
  // Every benchmark starts on the backend a user would get (matmul switches through all of them).
  const backend = await selectBackend(process.env.NESTLAB_BACKEND);
  console.log(`== ${b.name}: ${b.description} [backend ${backend.name}]`);
  for (const rec of await b.run()) writeRecord(rec);
}
