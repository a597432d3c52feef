// Prints the plain closing line CI reads: "tests: N passed, N failed, N skipped".
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  mode?: string;
  tasks?: TaskLike[];
  result?: { state?: string };
}

function count(tasks: TaskLike[], acc = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of tasks) {
    if (t.tasks) count(t.tasks, acc);
    if (t.type !== 'test') continue;
    const state = t.result?.state;
    if (state === 'pass') acc.passed++;
    else if (state === 'fail') acc.failed++;
    else acc.skipped++;
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: TaskLike[] = [], errors: unknown[] = []): void {
    const c = count(files);
    // A file that failed to load has no tests: count it as a failure.
    const brokenFiles = files.filter((f) => f.result?.state === 'fail' && (f.tasks ?? []).length === 0).length;
    const failed = c.failed + brokenFiles + errors.length;
    process.stdout.write(`\ntests: ${c.passed} passed, ${failed} failed, ${c.skipped} skipped\n`);
  }
}
