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
  private stampedAt = 0;
  private stamp = '';
  private readonly componentJson: string;

  constructor(
    private readonly sink: AccessLogSink,
    component: string,
    /** False when the log level is above `info`. */
    private readonly enabled: boolean,
  ) {
    this.componentJson = JSON.stringify(component);
  }

  /** Queues the line of one request. */
  write(fields: AccessLogFields): void {
    if (!this.enabled) return;
    let line = `{"component":${this.componentJson},"level":"info","message":"request"`;
    line += text('method', fields.method) + text('host', fields.host) + text('form', fields.form);
    line += text('service', fields.service);
    line += `,"status":${fields.status},"durationMs":${fields.durationMs}`;
    line += text('mapping', fields.mapping) + text('certificate', fields.certificate);
    this.pending += `${line},"timestamp":"${this.timestamp()}"}\n`;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  // Many lines share a millisecond under load: the timestamp is formatted once for each.
  private timestamp(): string {
    const now = Date.now();
    if (now !== this.stampedAt) {
      this.stampedAt = now;
      this.stamp = new Date(now).toISOString();
    }
    return this.stamp;
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

/** `,"name":"value"` with the value escaped as JSON, or nothing for an absent value. */
function text(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":${JSON.stringify(value)}`;
}
