import { spawn, type SpawnOptions } from 'node:child_process';

/** What a finished child process left: its exit status (null when killed) and its output. */
export interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without blocking the test worker, optionally writing `input` to its
 * stdin. A synchronous spawn holds vitest's RPC with the runner for the whole command, and one
 * that takes over a minute (a training run or a peer on a busy machine) fails the whole run with
 * "Timeout calling onTaskUpdate".
 *
 * @example const r = await runProcess(process.execPath, [cli, 'doctor']); // r.status, r.stdout, r.stderr
 */
export function runProcess(command: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<ProcessResult> {
  const { input, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin!.end(input ?? '');
  });
}
