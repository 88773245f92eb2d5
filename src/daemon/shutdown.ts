// How the daemon stops. First SIGTERM or SIGINT: finish the batches in flight (nothing new is journalled),
// stop the scheduler and the listener, checkpoint, release the lock, exit 0. A second signal: exit now, with
// the shell's code for that signal (130 for SIGINT, 143 for SIGTERM); what was in flight is resolved by the
// next start's recovery, as after a crash. The handlers are installed explicitly: Node as PID 1 (a
// container) has no default ones, and SIGTERM would be ignored. An uncaught exception or a rejection nobody
// handled is a bug: logged, exit 70.
import type { Logger } from '../observability/logger.js';

const SIGNAL_EXIT: Record<'SIGTERM' | 'SIGINT', number> = { SIGINT: 130, SIGTERM: 143 };

export interface ShutdownOptions {
  logger: Logger;
  /** Stops everything gracefully; the process exits once it resolves (with the code it resolves to). */
  stop: (reason: string) => Promise<void>;
  /** process.exit (tests pass their own). */
  exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** Whether a signal (or a fatal error) started the stop. */
  readonly requested: boolean;
  /** Removes the handlers (once the daemon has stopped). */
  dispose(): void;
  /** Logs a fatal error and exits at once with `code` (lock lost: 1; a bug: 70). */
  fatal(err: unknown, message: string, code: number): void;
}

export function installShutdown(options: ShutdownOptions): ShutdownHandle {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let signals = 0;

  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(SIGNAL_EXIT[signal]);
      return;
    }
    logger.info({ signal }, 'finishing current batches, then stopping (a second signal exits at once)');
    options.stop(signal).catch((err: unknown) => handle.fatal(err, 'stopping failed', 70));
  };
  const onSigterm = () => onSignal('SIGTERM');
  const onSigint = () => onSignal('SIGINT');
  const onUncaught = (err: unknown) => handle.fatal(err, 'uncaught exception: this is a bug, please report it', 70);
  const onRejection = (err: unknown) => handle.fatal(err, 'unhandled promise rejection: this is a bug, please report it', 70);

  process.on('SIGTERM', onSigterm);
  process.on('SIGINT', onSigint);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);

  const handle: ShutdownHandle = {
    get requested() { return signals > 0; },
    dispose() {
      process.off('SIGTERM', onSigterm);
      process.off('SIGINT', onSigint);
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
    },
    fatal(err, message, code) {
      logger.fatal({ err }, message);
      exit(code);
    },
  };
  return handle;
}
