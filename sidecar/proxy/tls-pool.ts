import type { LookupFunction } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';

/** What uses a connection for one exchange: it gets the socket's events meanwhile. */
export interface ConnectionUser {
  onData(chunk: Buffer): void;
  onError(err: Error): void;
  onClose(): void;
  onTimeout(): void;
}

/** Thrown when an upstream does not connect, answer or send body data in time. */
export class UpstreamTimeoutError extends Error {
  constructor(
    readonly code: 'UND_ERR_CONNECT_TIMEOUT' | 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamTimeoutError';
  }
}

/** One kept-alive TLS connection to an upstream. */
export class UpstreamConnection {
  /** The exchange using the connection, if any. */
  user: ConnectionUser | undefined;
  /** False until it has served one exchange: a fresh connection failing is not a stale one. */
  reused = false;
  /** When an idle connection is to be given up (performance.now()). */
  idleUntil = 0;

  constructor(
    readonly socket: TLSSocket,
    pool: TlsPool,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (this.user) this.user.onData(chunk);
      else socket.destroy();
    });
    socket.on('error', (err: Error) => this.user?.onError(err));
    socket.on('close', () => {
      const user = this.user;
      this.user = undefined;
      pool.forget(this);
      user?.onClose();
    });
    socket.on('timeout', () => {
      if (this.user) this.user.onTimeout();
      else socket.destroy();
    });
  }
}

/** How a pool reaches its upstream. */
export type TlsPoolOptions = {
  host: string;
  port: number;
  /** SNI; absent for an IP literal. */
  servername?: string;
  secureContext: SecureContext;
  lookup?: LookupFunction;
  timeoutMs: number;
  /** Most connections open at once; more exchanges wait for one. */
  maxConnections: number;
  /** Longest a connection stays idle, unless the upstream announces a shorter time. */
  idleMs: number;
  onHandshake?: () => void;
};

type Waiter = (err: Error | undefined, connection?: UpstreamConnection) => void;

/**
 * Kept-alive mutual-TLS connections to one upstream origin with one client identity. The last
 * released connection is handed out first, which keeps few connections warm. TLS sessions are
 * resumed on new connections.
 */
export class TlsPool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly waiting: Waiter[] = [];
  private readonly sockets = new Set<TLSSocket>();
  private open = 0;
  private session: Buffer | undefined;
  private closing = false;
  private closed: (() => void) | undefined;

  constructor(private readonly options: TlsPoolOptions) {}

  /** Calls back with a connection: an idle one, a new one, or the next one released. */
  acquire(callback: Waiter): void {
    let connection = this.idle.pop();
    if (connection !== undefined && connection.idleUntil < performance.now()) {
      // The most recent idle connection is past its time, so all older ones are too.
      connection.socket.destroy();
      for (const old of this.idle.splice(0)) old.socket.destroy();
      connection = undefined;
    }
    if (connection) {
      callback(undefined, connection);
      return;
    }
    if (this.open < this.options.maxConnections) this.connect(callback);
    else this.waiting.push(callback);
  }

  /** Opens a new connection, whatever is idle (to retry on a fresh one). */
  acquireFresh(callback: Waiter): void {
    this.connect(callback);
  }

  /** Takes back a connection whose exchange ended cleanly; `keepAliveSeconds` as announced. */
  release(connection: UpstreamConnection, keepAliveSeconds?: number): void {
    connection.user = undefined;
    connection.reused = true;
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter(undefined, connection);
      return;
    }
    if (this.closing) {
      connection.socket.destroy();
      return;
    }
    // Given up a second before the upstream's announced time, so that a request never races
    // the upstream closing it; an idle socket also closes at its timeout (no traffic at all).
    const announced = keepAliveSeconds === undefined ? Infinity : keepAliveSeconds * 1000 - 1000;
    const idleMs = Math.min(this.options.idleMs, announced);
    if (idleMs <= 0) {
      connection.socket.destroy();
      return;
    }
    connection.idleUntil = performance.now() + idleMs;
    this.idle.push(connection);
  }

  /** Closes a connection that cannot serve another exchange. */
  discard(connection: UpstreamConnection): void {
    connection.user = undefined;
    connection.socket.destroy();
  }

  /** Called once a connection's socket has closed. */
  forget(connection: UpstreamConnection): void {
    this.open--;
    this.sockets.delete(connection.socket);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.waiting.length > 0 && this.open < this.options.maxConnections) {
      this.connect(this.waiting.shift() as Waiter);
    }
    if (this.closing && this.open === 0) this.closed?.();
  }

  /** Stops keeping connections: idle ones close now, busy ones when their exchange ends. */
  close(): Promise<void> {
    this.closing = true;
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => (this.closed = resolve));
  }

  /** Ends every connection now, busy ones too: a stop's deadline has passed. */
  destroy(): void {
    this.closing = true;
    this.idle.splice(0);
    for (const socket of this.sockets) socket.destroy();
  }

  private connect(callback: Waiter): void {
    const { host, port, servername, secureContext, lookup, timeoutMs } = this.options;
    this.open++;
    const socket = tlsConnect({
      host,
      port,
      servername,
      secureContext,
      session: this.session,
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
      ...(lookup ? { lookup } : {}),
    });
    this.sockets.add(socket);
    socket.setNoDelay(true);
    // One timeout for the connection's life, so that no exchange pays for setting one: without
    // any traffic for that long, a busy connection has failed and an idle one is closed.
    socket.setTimeout(timeoutMs);

    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', settle);
      if (err) {
        socket.destroy();
        callback(err);
      } else {
        this.options.onHandshake?.();
        callback(undefined, connection);
      }
    };
    const timer = setTimeout(
      () => settle(new UpstreamTimeoutError('UND_ERR_CONNECT_TIMEOUT', 'connect timeout')),
      timeoutMs,
    );
    const connection = new UpstreamConnection(socket, this);
    socket.once('secureConnect', () => settle(undefined));
    socket.on('error', settle);
    socket.on('session', (session: Buffer) => (this.session = session));
  }
}
