import { ChunkedBody } from './chunked-body';
import { parseResponseHead, UpstreamProtocolError, type ResponseHead } from './http1-head';
import {
  UpstreamTimeoutError,
  type ConnectionUser,
  type TlsPool,
  type UpstreamConnection,
} from './tls-pool';

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
 * with the first body bytes; the response head is parsed, the body relayed to the sink with
 * backpressure and its end found from its framing, and the connection goes back to the pool
 * when both directions ended cleanly. A request without a body that fails on a reused
 * connection before any answer is retried once on a fresh one, as the upstream may have closed
 * the idle connection just then.
 */
export class UpstreamExchange implements ConnectionUser {
  private connection: UpstreamConnection | undefined;
  private phase = Phase.Connecting;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bodyLeft: number;
  private readonly hasBody: boolean;
  private buffered: Buffer | undefined;
  private response: ResponseHead | undefined;
  private left = 0;
  private chunked: ChunkedBody | undefined;
  private retried = false;
  private writableWaiter: (() => void) | undefined;
  private readonly deliverDecoded = (data: Buffer): void => this.deliver(data);

  constructor(
    private readonly pool: TlsPool,
    private readonly method: string,
    private readonly head: string,
    /** Bytes of the request body the caller writes; -1 for a chunked body. */
    requestBodyBytes: number,
    /** The first bytes of the body, sent with the head; counted in `requestBodyBytes`. */
    initialBody: Buffer | undefined,
    private readonly sink: ResponseSink,
    /** Keep chunk framing in the body bytes handed to the sink. */
    private readonly raw: boolean,
    private readonly timeoutMs: number,
  ) {
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
    if (this.phase === Phase.Head) {
      this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.readHead();
      if (this.relaying) this.sink.flush();
    } else if (this.phase === Phase.Body) {
      this.readBody(chunk);
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
    if (this.phase === Phase.Body && this.response?.framing === 'until-close') {
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

  private readHead(): void {
    for (;;) {
      let head: ResponseHead | undefined;
      try {
        head = parseResponseHead(this.buffered as Buffer, this.method);
      } catch (err) {
        this.connection?.socket.destroy();
        this.fail(err as Error);
        return;
      }
      if (!head) return;

      const rest = (this.buffered as Buffer).subarray(head.headBytes);
      this.buffered = rest.length > 0 ? rest : undefined;
      if (head.status === 101) {
        this.connection?.socket.destroy();
        this.fail(new UpstreamProtocolError('switching protocols unasked'));
        return;
      }
      // Interim responses (100 Continue, 103 Early Hints) are not relayed, as before.
      if (head.status < 200) {
        if (this.buffered) continue;
        return;
      }

      this.response = head;
      this.phase = Phase.Body;
      if (head.framing === 'chunked') this.chunked = new ChunkedBody();
      this.left = head.length;
      this.sink.onResponseHead(head);
      if (this.phase !== Phase.Body) return;
      if (head.framing === 'none') {
        this.finish(this.buffered !== undefined);
        return;
      }
      const body = this.buffered;
      this.buffered = undefined;
      if (body) this.readBody(body);
      return;
    }
  }

  private readBody(chunk: Buffer): void {
    const response = this.response as ResponseHead;
    if (response.framing === 'until-close') {
      this.deliver(chunk);
      return;
    }

    let end: number;
    if (response.framing === 'length') {
      end = Math.min(chunk.length, this.left);
      this.left -= end;
      if (end > 0) this.deliver(end === chunk.length ? chunk : chunk.subarray(0, end));
      if (this.left > 0) return;
    } else {
      const chunked = this.chunked as ChunkedBody;
      try {
        end = chunked.read(chunk, 0, this.raw ? undefined : this.deliverDecoded);
      } catch (err) {
        this.connection?.socket.destroy();
        this.fail(err as Error);
        return;
      }
      if (this.raw) this.deliver(end < 0 ? chunk : chunk.subarray(0, end));
      if (end < 0) return;
    }
    this.finish(end < chunk.length);
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
    const response = this.response as ResponseHead;
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
      this.buffered === undefined &&
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
