import { ErrorCode, type ErrorCode as Code } from '../../../core/errors/codes';
import { invalidApiRequest } from '../gateway-error';
import type { ApiBody } from './request-body';

/** A PKCS#12 file and its password, as a caller sent them. */
export type P12Upload = { p12: Buffer; password: string };

/** One certificate to create or update. */
export type CertificateUpload = P12Upload & { name: string; displayName?: string };

/** Why one certificate of a request was not saved. */
export type UploadFailure = { name: string; code: Code; message: string };

// A DNS-1123 subdomain, as Kubernetes object names are; short enough for the Secret's `.p12`.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME_LENGTH = 240;

/** Checks the name of an object to create; throws a 400 that says what a name may be. */
export function checkObjectName(name: unknown): string {
  if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH || !NAME.test(name)) {
    throw invalidApiRequest(
      `name must be a Kubernetes object name (lower-case letters, digits, '-' and '.', ` +
        `at most ${MAX_NAME_LENGTH} characters), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/**
 * Reads the bytes of a PKCS#12 file sent in JSON: a byte array as the hosted service takes it
 * (Java's signed bytes -128..127 are accepted as well as 0..255), or a base64 string.
 */
export function p12FromJson(value: unknown, field = 'p12'): Buffer {
  if (typeof value === 'string') {
    const text = value.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.length === 0) {
      throw invalidApiRequest(`${field} must be a byte array or a base64 string`);
    }
    return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  }
  if (Array.isArray(value)) {
    const bad = value.findIndex((byte) => !Number.isInteger(byte) || byte < -128 || byte > 255);
    if (bad >= 0) {
      throw invalidApiRequest(`${field}[${bad}] is not a byte (an integer from -128 to 255)`);
    }
    return Buffer.from((value as number[]).map((byte) => byte & 0xff));
  }
  throw invalidApiRequest(`${field} is required: the PKCS#12 file as a byte array or base64`);
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidApiRequest(`${field} must be a string`);
  return value;
}

function requiredPassword(value: unknown): string {
  if (typeof value !== 'string') {
    throw invalidApiRequest('password is required: the password of the PKCS#12 file');
  }
  return value;
}

/** A P12 and password from a JSON object `{ password, p12 }`. */
export function p12UploadFromJson(value: unknown): P12Upload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidApiRequest('expected a JSON object { password, p12 }');
  }
  const record = value as Record<string, unknown>;
  return { password: requiredPassword(record.password), p12: p12FromJson(record.p12) };
}

/** One certificate from a JSON object; the path's name wins when one is given (an update). */
export function certificateFromJson(value: unknown, pathName?: string): CertificateUpload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidApiRequest('expected a JSON object { name, displayName?, password, p12 }');
  }
  const record = value as Record<string, unknown>;
  if (pathName !== undefined && record.name !== undefined && record.name !== pathName) {
    throw invalidApiRequest(`name ${JSON.stringify(record.name)} differs from the path's name`);
  }
  return {
    name: checkObjectName(pathName ?? record.name),
    displayName: optionalText(record.displayName, 'displayName'),
    ...p12UploadFromJson(record),
  };
}

/** A P12 and password from form fields `password` and a file part `p12` (or `file`). */
export async function p12UploadFromForm(form: FormData): Promise<P12Upload> {
  const file = form.get('p12') ?? form.get('file');
  if (file === null) {
    throw invalidApiRequest('the form needs a file part named p12 (or file): the PKCS#12 file');
  }
  const p12 =
    typeof file === 'string' ? p12FromJson(file, 'p12') : Buffer.from(await file.arrayBuffer());
  return { p12, password: requiredPassword(form.get('password') ?? undefined) };
}

/** One certificate from a form: fields name, displayName, password and the file part. */
export async function certificateFromForm(
  form: FormData,
  pathName?: string,
): Promise<CertificateUpload> {
  const formName = form.get('name') ?? undefined;
  if (pathName !== undefined && formName !== undefined && formName !== pathName) {
    throw invalidApiRequest(`name ${JSON.stringify(formName)} differs from the path's name`);
  }
  return {
    name: checkObjectName(pathName ?? formName),
    displayName: optionalText(form.get('displayName') ?? undefined, 'displayName'),
    ...(await p12UploadFromForm(form)),
  };
}

/**
 * The certificates of a create request: one JSON object, a JSON array of them, or one form. A
 * malformed entry of an array becomes a failure of its own; the others still count.
 */
export async function certificatesFromBody(
  body: ApiBody,
): Promise<(CertificateUpload | UploadFailure)[]> {
  if (body.kind === 'form') return [await certificateFromForm(body.form)];
  if (!Array.isArray(body.value)) return [certificateFromJson(body.value)];
  if (body.value.length === 0) throw invalidApiRequest('the list of certificates is empty');

  return body.value.map((entry: unknown, index) => {
    try {
      return certificateFromJson(entry);
    } catch (err) {
      const named = (entry as { name?: unknown } | null)?.name;
      const name = typeof named === 'string' ? named : `#${index}`;
      return { name, code: ErrorCode.ApiRequestInvalid, message: (err as Error).message };
    }
  });
}

/** True for an entry that could not be read. */
export function isUploadFailure(entry: CertificateUpload | UploadFailure): entry is UploadFailure {
  return 'code' in entry;
}
