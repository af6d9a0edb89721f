import type { IncomingMessage } from 'node:http';

import { ErrorCode } from '../../../core/errors/codes';
import { GatewayError, invalidApiRequest } from '../gateway-error';

/**
 * Largest request body the API reads. A PKCS#12 file is at most 64 KiB, which a JSON byte array
 * spells in up to 256 KiB; a megabyte leaves room for a few certificates in one request.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A request body as the API operations take it. */
export type ApiBody = { kind: 'json'; value: unknown } | { kind: 'form'; form: FormData };

const PKCS12_HINT = 'a PKCS#12 file is at most 64 KiB';

function tooLarge(limit: number, hint: string): GatewayError {
  // The rest of an oversized body is not read: the connection closes after the answer.
  return new GatewayError(
    413,
    ErrorCode.ApiBodyTooLarge,
    `the request body is over ${limit} bytes; ${hint}`,
    { connection: 'close' },
  );
}

/**
 * Reads the whole body, refusing it as soon as it passes the limit; `hint` tells the caller in
 * the refusal why the body had to be small.
 */
export async function readBodyBytes(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
  hint = PKCS12_HINT,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit, hint);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit, hint);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON or multipart/form-data body; anything else is refused with 415. */
export async function readApiBody(req: IncomingMessage): Promise<ApiBody> {
  const contentType = req.headers['content-type'] ?? '';
  const mediaType = mediaTypeOf(req);

  if (isJson(mediaType)) {
    const text = (await readBodyBytes(req)).toString('utf8');
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch (err) {
      throw invalidApiRequest(`the body is not valid JSON: ${(err as Error).message}`);
    }
  }

  if (mediaType === 'multipart/form-data') {
    const bytes = await readBodyBytes(req);
    try {
      // The platform's fetch implementation parses multipart bodies; no parser of our own.
      const form = await new Response(bytes, {
        headers: { 'content-type': contentType },
      }).formData();
      return { kind: 'form', form };
    } catch (err) {
      throw invalidApiRequest(
        `the multipart/form-data body cannot be read: ${(err as Error).message}`,
      );
    }
  }

  throw new GatewayError(
    415,
    ErrorCode.ApiUnsupportedMediaType,
    `expected Content-Type application/json or multipart/form-data, got '${contentType}'`,
  );
}

/** Reads a JSON body; 415 for anything else. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!isJson(mediaTypeOf(req))) {
    throw new GatewayError(
      415,
      ErrorCode.ApiUnsupportedMediaType,
      'this operation takes Content-Type application/json',
    );
  }
  return ((await readApiBody(req)) as { value: unknown }).value;
}

/** The request's media type, lower case, without parameters; empty when it names none. */
export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';', 1)[0].trim().toLowerCase();
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}
