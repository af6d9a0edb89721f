/** Where access-log lines go: a writable such as `process.stderr`. */
export type AccessLogSink = { write(text: string): unknown };

/** The fields of one access-log line; none of them can carry a secret. */
export type AccessLogFields = {
  method?: string;
  host?: string;
  form?: string;
  service?: string;
  status: number;
  durationMs: number;
  mapping?: string;
  certificate?: string;
};

/**
 * The proxy's access log: one JSON line per request, shaped like the logger's lines
 * (component, level, message, fields, timestamp) so that both read alike, but written in
 * batches, once per turn of the event loop. Formatting and writing each line through the
 * logger cost more CPU than relaying the request.
 */
export class AccessLog {
  private pending = '';
  private scheduled = false;

  constructor(
    private readonly sink: AccessLogSink,
    private readonly component: string,
    /** False when the log level is above `info`. */
    private readonly enabled: boolean,
  ) {}

  /** Queues the line of one request. */
  write(fields: AccessLogFields): void {
    if (!this.enabled) return;
    const line = {
      component: this.component,
      level: 'info',
      message: 'request',
      ...fields,
      timestamp: new Date().toISOString(),
    };
    this.pending += `${JSON.stringify(line)}\n`;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Writes the queued lines now. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.sink.write(text);
  };
}
