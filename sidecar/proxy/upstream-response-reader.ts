import { ChunkedBody } from './chunked-body';
import { parseResponseHead, UpstreamProtocolError, type ResponseHead } from './http1-head';

/** What a response reader reports, in order: the head, body bytes, then the end. */
export interface ResponseReaderEvents {
  /** The final response head (interim 1xx responses are skipped). */
  onHead(head: ResponseHead): void;
  /** Body bytes: as on the wire in raw mode (chunk framing kept), else decoded. */
  onBody(chunk: Buffer): void;
  /** The body ended; `extraBytes` when more bytes followed it. */
  onEnd(extraBytes: boolean): void;
  /** The bytes are not a response the proxy relays; nothing more is reported. */
  onInvalid(err: Error): void;
}

/**
 * Reads one HTTP/1.1 response from the bytes an upstream connection receives: the head is
 * parsed once whole, and the body's end found from its framing (length, chunked, or none). A
 * body that ends with the connection (`until-close`) never ends here; the owner ends it.
 */
export class UpstreamResponseReader {
  private buffered: Buffer | undefined;
  private response: ResponseHead | undefined;
  private left = 0;
  private chunked: ChunkedBody | undefined;
  private readonly deliverDecoded = (data: Buffer): void => this.events.onBody(data);

  constructor(
    private readonly method: string,
    /** Keep chunk framing in the body bytes reported. */
    private readonly raw: boolean,
    private readonly events: ResponseReaderEvents,
  ) {}

  /** The final response head, once read. */
  get head(): ResponseHead | undefined {
    return this.response;
  }

  /** True while bytes of a head that is not whole yet are held. */
  get holdsPartialHead(): boolean {
    return this.response === undefined && this.buffered !== undefined;
  }

  /** Takes the next bytes the connection received. */
  read(chunk: Buffer): void {
    if (this.response === undefined) {
      this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.readHead();
    } else {
      this.readBody(chunk);
    }
  }

  private readHead(): void {
    for (;;) {
      let head: ResponseHead | undefined;
      try {
        head = parseResponseHead(this.buffered as Buffer, this.method);
      } catch (err) {
        this.events.onInvalid(err as Error);
        return;
      }
      if (!head) return;

      const rest = (this.buffered as Buffer).subarray(head.headBytes);
      this.buffered = rest.length > 0 ? rest : undefined;
      if (head.status === 101) {
        this.events.onInvalid(new UpstreamProtocolError('switching protocols unasked'));
        return;
      }
      // Interim responses (100 Continue, 103 Early Hints) are not relayed, as before.
      if (head.status < 200) {
        if (this.buffered) continue;
        return;
      }

      this.response = head;
      if (head.framing === 'chunked') this.chunked = new ChunkedBody();
      this.left = head.length;
      this.events.onHead(head);
      if (head.framing === 'none') {
        this.events.onEnd(this.buffered !== undefined);
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
      this.events.onBody(chunk);
      return;
    }

    let end: number;
    if (response.framing === 'length') {
      end = Math.min(chunk.length, this.left);
      this.left -= end;
      if (end > 0) this.events.onBody(end === chunk.length ? chunk : chunk.subarray(0, end));
      if (this.left > 0) return;
    } else {
      const chunked = this.chunked as ChunkedBody;
      try {
        end = chunked.read(chunk, 0, this.raw ? undefined : this.deliverDecoded);
      } catch (err) {
        this.events.onInvalid(err as Error);
        return;
      }
      if (this.raw) this.events.onBody(end < 0 ? chunk : chunk.subarray(0, end));
      if (end < 0) return;
    }
    this.events.onEnd(end < chunk.length);
  }
}
