/**
 * Long loops that await only already-settled promises (a training step on the wasm backend, a
 * probe per class) run microtasks alone and hold the event loop for their whole length: timers,
 * I/O, a notebook kernel's messages and a test runner's heartbeats wait. A yielder gives the
 * event loop one turn (setImmediate) once every `everyMs` of work, which costs nothing measurable.
 */

/**
 * A function to await inside a long loop: it yields to the event loop when `everyMs` have passed
 * since the last yield, else returns at once.
 */
export function eventLoopYielder(everyMs = 100): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < everyMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = Date.now();
  };
}
