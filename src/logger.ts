/** One pino logger; credentials are redacted wherever they could appear. */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'zumik' },
    redact: {
      paths: ['*.authorization', '*.headers.authorization', '*.headers["x-api-key"]', '*.headers["x-goog-api-key"]', '*.apiKey',
        '*.api_key', '*.key', '*.secret', '*.credential'],
      censor: '[redacted]',
    },
  }, destination);
}
