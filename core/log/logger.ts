import winston from 'winston';

/** Field names every log line uses, so that logs from all parts can be joined. */
export type LogFields = {
  namespace?: string;
  name?: string;
  kind?: string;
  reconcileId?: string;
  host?: string;
  err?: unknown;
  [field: string]: unknown;
};

/** A structured logger: constant messages, values as fields. */
export type Logger = {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
};

// Field names whose values are never written, whatever a caller passes by mistake.
const SECRET_FIELDS = new Set([
  'authorization',
  'cookie',
  'password',
  'privatekey',
  'key',
  'token',
  'secret',
  'lp-authorization-override',
]);

/** Replaces secret values and turns errors into plain objects a JSON line can carry. */
export function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { message: value.message, name: value.name, ...(code ? { code } : {}) };
  }
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));

  const out: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) {
    out[field] = SECRET_FIELDS.has(field.toLowerCase()) ? '[redacted]' : redact(inner, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const field of Object.keys(info)) {
    if (field === 'level' || field === 'message') continue;
    info[field] = SECRET_FIELDS.has(field.toLowerCase()) ? '[redacted]' : redact(info[field]);
  }
  return info;
});

/** Creates the process logger: winston JSON lines on stderr, secrets redacted. */
export function createLogger(component: string, level = 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(
      redactFormat(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [
      new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
}
