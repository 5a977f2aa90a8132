// Structured logs: JSON lines when stdout is not a terminal (collectors parse them),
// readable coloured lines on a terminal.
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };
export type LogLevel = LevelWithSilent;

export function createLogger(level: LogLevel, opts: { pretty?: boolean } = {}): Logger {
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (usePretty) {
    return pino({ level }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing: the default for tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
