import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Streams an upstream response body into the client's response, with backpressure. Resolves
 * when the response has been written whole; rejects when the upstream body fails or closes
 * early, or when the client leaves first, and then the caller cuts the response short.
 *
 * `stream.pipeline` does the same but builds and aborts an AbortController per call, whose
 * DOMException alone cost about 3% of the proxy's CPU under load.
 */
export function relayBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    body.on('error', (err: Error) => {
      body.unpipe(res);
      reject(err);
    });
    body.once('close', () => {
      if (!body.readableEnded) reject(new Error('the upstream response closed before its end'));
    });

    res.once('finish', () => resolve());
    res.once('close', () => {
      if (res.writableFinished) return;
      body.destroy();
      reject(new Error('the client closed the connection before the response ended'));
    });

    body.pipe(res);
  });
}
