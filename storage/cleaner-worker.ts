/**
 * The log cleaner's worker thread entry (started by log-cleaner.ts). Messages:
 *
 *   parent -> worker   { type: 'clean', id, job: CleanJob }       one pass; jobs run one at a time
 *                      { type: 'swapped', id }                     the last group was swapped in: go on
 *   worker -> parent   { type: 'group', id, group: CleanedGroup }  a group's .cleaned files are complete
 *                      { type: 'done', id, result: CleanResult }
 *                      { type: 'error', id, message, stack }
 *
 * The worker waits for 'swapped' after each group, so at most one group's files exist beside the log.
 */
import { parentPort } from 'node:worker_threads';
import { runCleanJob, type CleanedGroup, type CleanJob, type CleanResult } from './cleaner.js';

export type CleanerRequest = { type: 'clean'; id: number; job: CleanJob } | { type: 'swapped'; id: number };
export type CleanerReply =
  | { type: 'group'; id: number; group: CleanedGroup }
  | { type: 'done'; id: number; result: CleanResult }
  | { type: 'error'; id: number; message: string; stack?: string };

const port = parentPort;
if (port) {
  let waitingSwap: (() => void) | null = null;
  let queue: Promise<void> = Promise.resolve();
  const reply = (m: CleanerReply): void => port.postMessage(m);
  port.on('message', (m: CleanerRequest) => {
    if (m.type === 'swapped') {
      const w = waitingSwap;
      waitingSwap = null;
      w?.();
      return;
    }
    queue = queue.then(async () => {
      try {
        const result = await runCleanJob(m.job, (group) => {
          const swapped = new Promise<void>((resolve) => {
            waitingSwap = resolve;
          });
          reply({ type: 'group', id: m.id, group });
          return swapped;
        });
        reply({ type: 'done', id: m.id, result });
      } catch (err) {
        const e = err as Error;
        reply({ type: 'error', id: m.id, message: e.message, stack: e.stack });
      }
    });
  });
}
