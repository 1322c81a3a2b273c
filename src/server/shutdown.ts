import { constants } from 'node:os';
import { log } from '../log.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Resolves to the exit code once the first SIGTERM or SIGINT has run `stop`: 0 when it
 * succeeded, 1 when it threw. A second signal while stopping exits at once (128 + signal number),
 * for an operator who does not want to wait for the drain.
 */
export function untilTerminated(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: (typeof SIGNALS)[number]) => {
      if (stopping) {
        log.warn(`${signal} again: exiting without waiting for shutdown`);
        process.exit(128 + constants.signals[signal]);
      }
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
