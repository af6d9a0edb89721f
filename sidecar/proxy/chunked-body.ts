import { UpstreamProtocolError } from './http1-head';

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  TrailerLine,
  TrailerLf,
  FinalLf,
  Done,
}

const CR = 13;
const LF = 10;
// A chunk size of more than 12 hex digits (256 TB) is not a real chunk.
const MAX_SIZE_DIGITS = 12;

/**
 * Follows the framing of a chunked body as its bytes arrive, so the relay knows where the
 * message ends without re-encoding it; optionally hands out the data bytes (decoded) too.
 * Throws UpstreamProtocolError on anything that is not valid chunked framing.
 */
export class ChunkedBody {
  private state = State.Size;
  private remaining = 0;
  private digits = 0;

  /** True once the last chunk and the trailer section have passed. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Reads `chunk` from `start`; returns the index just past the end of the body, or -1 when the
   * body goes on. `onData` receives the data bytes, framing removed.
   */
  read(chunk: Buffer, start = 0, onData?: (data: Buffer) => void): number {
    let i = start;
    while (i < chunk.length) {
      if (this.state === State.Data) {
        const take = Math.min(this.remaining, chunk.length - i);
        if (onData) onData(chunk.subarray(i, i + take));
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = State.DataCr;
        continue;
      }
      const byte = chunk[i++];
      switch (this.state) {
        case State.Size:
          this.readSizeDigit(byte);
          break;
        case State.Extension:
          // Extensions are passed on untouched; only their end matters.
          if (byte === CR) this.state = State.SizeLf;
          else if (byte < 0x20 && byte !== 9) throw invalid('chunk extension');
          break;
        case State.SizeLf:
          this.expect(byte, LF);
          this.state = this.remaining === 0 ? State.TrailerLineStart : State.Data;
          break;
        case State.DataCr:
          this.expect(byte, CR);
          this.state = State.DataLf;
          break;
        case State.DataLf:
          this.expect(byte, LF);
          this.state = State.Size;
          this.digits = 0;
          break;
        case State.TrailerLineStart:
          this.state = byte === CR ? State.FinalLf : State.TrailerLine;
          break;
        case State.TrailerLine:
          if (byte === CR) this.state = State.TrailerLf;
          else if (byte === LF) throw invalid('trailer line');
          break;
        case State.TrailerLf:
          this.expect(byte, LF);
          this.state = State.TrailerLineStart;
          break;
        case State.FinalLf:
          this.expect(byte, LF);
          this.state = State.Done;
          return i;
        default:
          throw invalid('bytes after the end of the body');
      }
    }
    return -1;
  }

  private readSizeDigit(byte: number): void {
    const value = hexValue(byte);
    if (value >= 0) {
      if (++this.digits > MAX_SIZE_DIGITS) throw invalid('chunk size');
      this.remaining = this.remaining * 16 + value;
      return;
    }
    if (this.digits === 0) throw invalid('chunk size');
    if (byte === CR) this.state = State.SizeLf;
    else if (byte === 0x3b || byte === 0x20 || byte === 9) this.state = State.Extension;
    else throw invalid('chunk size');
  }

  private expect(byte: number, wanted: number): void {
    if (byte !== wanted) throw invalid('chunk framing');
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function invalid(what: string): UpstreamProtocolError {
  return new UpstreamProtocolError(`bad chunked body (${what})`);
}
