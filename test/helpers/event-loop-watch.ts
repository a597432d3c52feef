/**
 * Names the test that blocked its worker's event loop for long (a vitest setup file). vitest's
 * RPC between a worker and the runner times out after 60 s, and a worker that holds its event loop
 * that long fails the whole run with "Timeout calling onTaskUpdate", naming no test; this warning
 * names one. The cure is a yield in the loop (src/backend/yield.ts) or an async child process
 * (helpers/spawn.ts).
 */
import { expect } from 'vitest';

const WARN_AFTER_MS = 15_000;

let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last > WARN_AFTER_MS) {
    const where = expect.getState().currentTestName ?? 'a hook or the file\'s collection';
    console.warn(`event loop blocked for ${((now - last) / 1000).toFixed(1)} s (vitest's worker RPC times out at 60 s), ending in: ${where}`);
  }
  last = now;
}, 250).unref();
