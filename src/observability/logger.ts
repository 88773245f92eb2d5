// Structured JSON logs (pino). Every secret-bearing field is redacted by path, whatever the caller passes.
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'clientSecret', '*.clientSecret', '*.*.clientSecret',
  'secret', '*.secret', 'token', '*.token', '*.*.token',
  'secondaryToken', '*.secondaryToken', 'password', '*.password', '*.*.password',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'headers["proxy-authorization"]', 'access_token', '*.access_token', 'client_assertion', '*.client_assertion',
  'privateKey', '*.privateKey', '*.*.privateKey',
  'adminToken', '*.adminToken', '*.*.adminToken',
];

export type { Logger };

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream | DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'entra-sync',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stderr,
  );
}

/** A logger that drops everything, for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
