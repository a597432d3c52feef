import { describe, expect, it } from 'vitest';
import { eventLoopYielder } from '../../src/backend/yield.js';

// A loop of awaits on settled promises never lets a timer run; with the yielder, timers run
// while the loop is still going (a notebook kernel or a test runner stays responsive).
describe('eventLoopYielder', () => {
  const busy = (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
  };

  it('lets a due timer run during a long loop, and only once the interval has passed', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    for (let i = 0; i < 10; i++) {
      busy(10);
      await Promise.resolve(); // microtasks only: the timer cannot run
    }
    expect(fired).toBe(false);
    const yieldNow = eventLoopYielder(20);
    let firedAt = -1;
    for (let i = 0; i < 10 && firedAt < 0; i++) {
      busy(10);
      await yieldNow();
      if (fired) firedAt = i;
    }
    expect(firedAt).toBeGreaterThanOrEqual(1); // not before 20 ms of work
    expect(firedAt).toBeLessThan(10);
  });
});
