/**
 * Starts a worker thread from a module URL, TypeScript included. We run from source with
 * `node --import tsx` and no build step, but on Node 20 a worker does not inherit the tsx
 * loader hooks (its entry fails with "Unknown file extension .ts"), so a `.ts` entry is started
 * through a tiny ESM bootstrap that registers tsx inside the worker first. A `.js` entry (a
 * compiled build) is started directly.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

/**
 * @example
 * const worker = spawnWorker(new URL('./relay-worker.ts', import.meta.url), { workerData });
 */
export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import { register } from ${JSON.stringify(tsxApi)};\n` +
    `register();\n` +
    `await import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}
