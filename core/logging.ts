import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
export type LogLevel = Level | 'silent';

/** The one root logger; plugins get `child({ plugin })`, connections `child({ conn, protocol })`. */
export function createRootLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ name: 'wharf', level, base: undefined }, destination);
}
