import { ErrorCode, MtlsError } from '../../core/errors/codes';
import type { PatchOperation } from './json-patch';

/** The request part of an `admission.k8s.io/v1` AdmissionReview, as far as the webhook reads it. */
export type AdmissionRequest = {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  namespace?: string;
  operation?: string;
  object?: unknown;
  dryRun?: boolean;
};

/** The response part of an AdmissionReview. */
export type AdmissionResponse = {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; message: string; reason?: string };
};

/** An `admission.k8s.io/v1` AdmissionReview. */
export type AdmissionReview = {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
};

function invalid(message: string): MtlsError {
  return new MtlsError(ErrorCode.AdmissionRequestInvalid, message);
}

/** The request of a parsed AdmissionReview body; anything else throws ADMISSION_REQUEST_INVALID. */
export function readAdmissionRequest(body: unknown): AdmissionRequest {
  const review = body as Partial<AdmissionReview> | null;
  if (review === null || typeof review !== 'object' || Array.isArray(review)) {
    throw invalid('the body is not an AdmissionReview object');
  }
  if (review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1') {
    throw invalid('expected kind AdmissionReview of apiVersion admission.k8s.io/v1');
  }
  const request = review.request;
  if (!request || typeof request !== 'object' || typeof request.uid !== 'string' || !request.uid) {
    throw invalid('the AdmissionReview has no request with a uid');
  }
  if (
    request.object !== undefined &&
    (request.object === null || typeof request.object !== 'object')
  ) {
    throw invalid('the AdmissionReview request.object is not an object');
  }
  return request;
}

function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** Admits the object, changed by the patch when there is one. */
export function allowReview(uid: string, patch?: readonly PatchOperation[]): AdmissionReview {
  if (!patch || patch.length === 0) return review({ uid, allowed: true });
  const encoded = Buffer.from(JSON.stringify(patch)).toString('base64');
  return review({ uid, allowed: true, patchType: 'JSONPatch', patch: encoded });
}

/** Refuses the object; the apiserver shows the message to whoever created it. */
export function denyReview(uid: string, message: string): AdmissionReview {
  return review({ uid, allowed: false, status: { code: 400, reason: 'BadRequest', message } });
}
