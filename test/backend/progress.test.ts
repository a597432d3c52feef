import { describe, expect, it } from 'vitest';
import { lineProgress } from '../../src/backend/progress.js';

describe('lineProgress', () => {
  it('writes every update with no interval, and the summary', () => {
    const lines: string[] = [];
    const p = lineProgress((l) => lines.push(l), { minIntervalMs: 0 });
    p.start(3, 'train');
    p.update(1, 'loss 0.5');
    p.update(2);
    p.update(3, 'loss 0.1');
    p.stop('3 steps');
    expect(lines).toEqual(['train 1/3  loss 0.5', 'train 2/3', 'train 3/3  loss 0.1', 'train done: 3 steps']);
  });

  it('drops a flood of updates between lines, but keeps the first and the last step', () => {
    const lines: string[] = [];
    const p = lineProgress((l) => lines.push(l), { minIntervalMs: 60_000 });
    p.start(10_000, 'LM');
    for (let s = 1; s <= 10_000; s++) p.update(s, `step ${s}`);
    expect(lines).toEqual(['LM 1/10000  step 1', 'LM 10000/10000  step 10000']);
    p.start(2, 'next run'); // a new run starts its own clock
    p.update(1);
    expect(lines[lines.length - 1]).toBe('next run 1/2');
  });
});
