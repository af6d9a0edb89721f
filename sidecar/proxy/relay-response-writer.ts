import type { Socket } from 'node:net';

import { downstreamHeaderLines } from './header-policy';
import type { ResponseHead } from './http1-head';
import { statusLine } from './proxy-replies';

/**
 * Writes an upstream's response to a relay client: the head as the proxy passes it on (kept
 * headers, the body's framing, whether the connection stays open), then the body bytes with
 * backpressure. The head waits for the first body bytes, which usually arrive with it, so that
 * both go out in one write.
 */
export class RelayResponseWriter {
  private pendingHead: string | undefined;
  private readonly keepAliveLines: string;

  constructor(
    private readonly socket: Socket,
    /** Idle time a kept-alive connection is given, told to the client. */
    keepAliveSeconds: number,
    /** Called when the client took what it was slow to read; the upstream may go on. */
    private readonly onDrain: () => void,
  ) {
    // As Node's server says it: clients that reuse idle connections learn when this one closes.
    this.keepAliveLines = `connection: keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}\r\n`;
  }

  /** Composes the head of the response; `close` says the connection ends after it. */
  head(response: ResponseHead, close: boolean): void {
    const kept = downstreamHeaderLines(response);
    let text = statusLine(response.status);
    for (let i = 0; i < kept.names.length; i++) text += `${kept.names[i]}: ${kept.values[i]}\r\n`;
    if (response.framing === 'chunked') text += 'transfer-encoding: chunked\r\n';
    else if (response.contentLength !== undefined) {
      text += `content-length: ${response.contentLength}\r\n`;
    }
    text += close ? 'connection: close\r\n' : this.keepAliveLines;
    this.pendingHead = `${text}\r\n`;
  }

  /** Writes body bytes, after the head; false when the client is slow and `onDrain` follows. */
  body(chunk: Buffer): boolean {
    let writable: boolean;
    if (this.pendingHead === undefined) writable = this.socket.write(chunk);
    else {
      this.socket.cork();
      this.socket.write(this.pendingHead, 'latin1');
      this.pendingHead = undefined;
      writable = this.socket.write(chunk);
      this.socket.uncork();
    }
    if (writable) return true;
    this.socket.once('drain', this.onDrain);
    return false;
  }

  /** Writes a head still waiting for body bytes. */
  flush(): void {
    if (this.pendingHead === undefined) return;
    this.socket.write(this.pendingHead, 'latin1');
    this.pendingHead = undefined;
  }

  /** Drops a head not written yet: the response failed before it reached the client. */
  discard(): void {
    this.pendingHead = undefined;
  }
}
