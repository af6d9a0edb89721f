import type { ResponseHead } from './http1-head';
import {
  UpstreamTimeoutError,
  type ConnectionUser,
  type TlsPool,
  type UpstreamConnection,
} from './tls-pool';
import { UpstreamResponseReader, type ResponseReaderEvents } from './upstream-response-reader';

/** Where an exchange delivers the upstream's response. */
export interface ResponseSink {
  /** The response head (interim 1xx responses are skipped). */
  onResponseHead(head: ResponseHead): void;
  /**
   * Body bytes: as on the wire in raw mode (chunk framing kept), else decoded. Returning false
   * pauses the upstream until `resume()`.
   */
  onResponseBody(chunk: Buffer): boolean;
  /** The bytes of one upstream read were all handed over: a good moment to write them out. */
  flush(): void;
  /** The whole response arrived. */
  onResponseEnd(): void;
  /** The exchange failed, before or after the head. */
  onFailure(err: Error): void;
}

/** Thrown when an upstream closes the connection before its response ended. */
export class UpstreamClosedError extends Error {
  readonly code = 'UND_ERR_SOCKET';

  constructor() {
    super('the upstream closed the connection before its response ended');
    this.name = 'UpstreamClosedError';
  }
}

// Request body bytes held while no connection is ready yet; beyond this the writer waits.
const PENDING_LIMIT = 64 * 1024;

const enum Phase {
  Connecting,
  Head,
  Body,
  Done,
}

/**
 * One request and its response over a pooled upstream connection. The request head goes out
 * with the first body bytes; the response, as an UpstreamResponseReader reads it, is relayed to
 * the sink with backpressure, and the connection goes back to the pool when both directions
 * ended cleanly. A request without a body that fails on a reused connection before any answer
 * is retried once on a fresh one, as the upstream may have closed the idle connection just then.
 */
export class UpstreamExchange implements ConnectionUser {
  private connection: UpstreamConnection | undefined;
  private phase = Phase.Connecting;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bodyLeft: number;
  private readonly hasBody: boolean;
  private readonly reader: UpstreamResponseReader;
  private retried = false;
  private writableWaiter: (() => void) | undefined;
  private readonly readerEvents: ResponseReaderEvents = {
    onHead: (head) => {
      this.phase = Phase.Body;
      this.sink.onResponseHead(head);
    },
    onBody: (chunk) => this.deliver(chunk),
    onEnd: (extraBytes) => this.finish(extraBytes),
    onInvalid: (err) => {
      // After the sink gave up (in onResponseHead), what the reader finds no longer matters.
      if (this.phase === Phase.Done) return;
      this.connection?.socket.destroy();
      this.fail(err);
    },
  };

  constructor(
    private readonly pool: TlsPool,
    method: string,
    private readonly head: string,
    /** Bytes of the request body the caller writes; -1 for a chunked body. */
    requestBodyBytes: number,
    /** The first bytes of the body, sent with the head; counted in `requestBodyBytes`. */
    initialBody: Buffer | undefined,
    private readonly sink: ResponseSink,
    /** Keep chunk framing in the body bytes handed to the sink. */
    raw: boolean,
    private readonly timeoutMs: number,
  ) {
    this.reader = new UpstreamResponseReader(method, raw, this.readerEvents);
    this.bodyLeft = requestBodyBytes;
    this.hasBody = requestBodyBytes !== 0;
    if (initialBody) {
      this.pending.push(initialBody);
      this.pendingBytes = initialBody.length;
      if (this.bodyLeft > 0) this.bodyLeft -= initialBody.length;
    }
    pool.acquire(this.onConnection);
  }

  /** True once the whole request body has been written. */
  get requestWritten(): boolean {
    return this.bodyLeft === 0;
  }

  /**
   * Writes request body bytes (for a chunked body, already framed, `last` on the final one).
   * Returns false when the caller should wait for `onWritable` before writing more.
   */
  write(chunk: Buffer, last = false): boolean {
    if (this.bodyLeft > 0) this.bodyLeft -= chunk.length;
    if (last) this.bodyLeft = 0;
    if (this.phase === Phase.Done) return true;
    if (this.connection === undefined) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return this.pendingBytes < PENDING_LIMIT;
    }
    return this.connection.socket.write(chunk);
  }

  /** Calls back once when the request body may be written again. */
  onWritable(callback: () => void): void {
    if (this.connection === undefined) this.writableWaiter = callback;
    else this.connection.socket.once('drain', callback);
  }

  /** Resumes reading the response after the sink refused a chunk. */
  resume(): void {
    const socket = this.connection?.socket;
    if (!socket) return;
    socket.setTimeout(this.timeoutMs);
    socket.resume();
  }

  /** Gives up (the client left): the connection is closed, the sink hears nothing more. */
  abort(): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    if (this.connection) this.pool.discard(this.connection);
  }

  private readonly onConnection = (err: Error | undefined, connection?: UpstreamConnection) => {
    if (this.phase === Phase.Done) {
      if (connection) this.pool.release(connection);
      return;
    }
    if (err || !connection) {
      this.fail(err ?? new Error('no upstream connection'));
      return;
    }

    this.connection = connection;
    connection.user = this;
    this.phase = Phase.Head;
    const socket = connection.socket;
    socket.cork();
    socket.write(this.head, 'latin1');
    for (const chunk of this.pending) socket.write(chunk);
    socket.uncork();
    this.pending = [];
    this.pendingBytes = 0;
    const waiter = this.writableWaiter;
    this.writableWaiter = undefined;
    waiter?.();
  };

  onData(chunk: Buffer): void {
    if (this.phase === Phase.Head || this.phase === Phase.Body) {
      this.reader.read(chunk);
      if (this.relaying) this.sink.flush();
    } else {
      // Bytes after the response, or after an abort: the connection cannot be trusted again.
      this.connection?.socket.destroy();
    }
  }

  private get relaying(): boolean {
    return this.phase === Phase.Body;
  }

  onError(err: Error): void {
    this.retryOrFail(err);
  }

  onClose(): void {
    if (this.phase === Phase.Body && this.reader.head?.framing === 'until-close') {
      this.phase = Phase.Done;
      this.connection = undefined;
      this.sink.onResponseEnd();
      return;
    }
    this.retryOrFail(new UpstreamClosedError());
  }

  onTimeout(): void {
    const err =
      this.phase === Phase.Head
        ? new UpstreamTimeoutError('UND_ERR_HEADERS_TIMEOUT', 'no response headers in time')
        : new UpstreamTimeoutError('UND_ERR_BODY_TIMEOUT', 'no response body data in time');
    this.connection?.socket.destroy();
    this.fail(err);
  }

  private deliver(chunk: Buffer): void {
    if (this.phase !== Phase.Body) return;
    if (this.sink.onResponseBody(chunk)) return;

    // A slow client is not a slow upstream: no timeout while the sink catches up.
    const socket = this.connection?.socket;
    socket?.setTimeout(0);
    socket?.pause();
  }

  private finish(extraBytes: boolean): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    const connection = this.connection as UpstreamConnection;
    this.connection = undefined;
    const response = this.reader.head as ResponseHead;
    if (connection.socket.isPaused()) {
      // The client was slow to take the last bytes: the connection gets its timeout back.
      connection.socket.setTimeout(this.timeoutMs);
      connection.socket.resume();
    }
    if (response.keepAlive && !extraBytes && this.bodyLeft === 0) {
      this.pool.release(connection, response.keepAliveSeconds);
    } else {
      this.pool.discard(connection);
    }
    this.sink.onResponseEnd();
  }

  private retryOrFail(err: Error): void {
    if (this.phase === Phase.Done) return;
    const connection = this.connection;
    const stale =
      connection !== undefined &&
      connection.reused &&
      !this.retried &&
      this.phase === Phase.Head &&
      !this.reader.holdsPartialHead &&
      !this.hasBody;
    if (connection) this.pool.discard(connection);
    this.connection = undefined;
    if (!stale) {
      this.fail(err);
      return;
    }
    this.retried = true;
    this.phase = Phase.Connecting;
    this.pool.acquireFresh(this.onConnection);
  }

  private fail(err: Error): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    if (this.connection) this.pool.discard(this.connection);
    this.connection = undefined;
    this.sink.onFailure(err);
  }
}
