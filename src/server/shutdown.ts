import { constants } from 'node:os';
import { log } from '../log.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * The same signal again this soon after the first is one keypress, not a second request: a
 * Ctrl-C under `npm start` reaches the server from the terminal and again through tsx, which
 * relays it to its child.
 */
const ECHO_MS = 250;

/**
 * Resolves to the exit code once the first SIGTERM or SIGINT has run `stop`: 0 when it
 * succeeded, 1 when it threw. A second signal while stopping exits at once (128 + signal number),
 * for an operator who does not want to wait for the drain.
 */
export function untilTerminated(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let first: { signal: string; at: number } | null = null;
    const onSignal = (signal: (typeof SIGNALS)[number]) => {
      if (stopping) {
        if (first && first.signal === signal && performance.now() - first.at < ECHO_MS) return;
        log.warn(`${signal} again: exiting without waiting for shutdown`);
        process.exit(128 + constants.signals[signal]);
      }
      first = { signal, at: performance.now() };
      stopping = true;
      log.info(`${signal} received: shutting down`);
      stop().then(
        () => resolve(0),
        (error) => {
          log.error('shutdown failed', { error });
          resolve(1);
        },
      );
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
  });
}
