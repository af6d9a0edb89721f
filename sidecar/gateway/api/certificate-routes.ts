import { analyzePkcs12 } from '../../../core/certificate/analysis';
import { ErrorCode } from '../../../core/errors/codes';
import { KubeApiError } from '../../../core/kube/kube-client';
import { GatewayError } from '../gateway-error';
import type { ApiAnswer, ApiRoute } from './api-router';
import { certificateEntity, type CertificateEntity } from './certificate-entity';
import type { CertificateStore } from './certificate-store';
import {
  certificateFromForm,
  certificateFromJson,
  certificatesFromBody,
  isUploadFailure,
  type CertificateUpload,
  type UploadFailure,
} from './certificate-upload';
import { readApiBody } from './request-body';

/** The answer of a create or an update: what was saved, and why the rest was not. */
export type SaveReport = { saved: CertificateEntity[]; failed: UploadFailure[] };

const COLLECTION = '/api/v1/accounts/{namespace}/certificates';
const ITEM = `${COLLECTION}/{name}`;

/** The certificate operations: list, get, create, update, delete. */
export function certificateRoutes(store: CertificateStore): ApiRoute[] {
  const save = async (
    entries: (CertificateUpload | UploadFailure)[],
    write: (upload: CertificateUpload) => Promise<CertificateEntity>,
  ): Promise<SaveReport> => {
    const report: SaveReport = { saved: [], failed: [] };
    for (const entry of entries) {
      if (isUploadFailure(entry)) {
        report.failed.push(entry);
        continue;
      }
      try {
        report.saved.push(await write(checked(entry)));
      } catch (err) {
        report.failed.push(failureOf(entry.name, err));
      }
    }
    return report;
  };

  return [
    {
      method: 'GET',
      path: COLLECTION,
      operationId: 'listCertificates',
      group: 'certificates',
      permission: { verb: 'list', resource: 'mtlscertificates' },
      async handle({ params }) {
        const certificates = await store.list(params.namespace);
        return { status: 200, body: certificates.map(certificateEntity) };
      },
    },
    {
      method: 'GET',
      path: ITEM,
      operationId: 'getCertificate',
      group: 'certificates',
      permission: { verb: 'get', resource: 'mtlscertificates' },
      async handle({ params }) {
        return {
          status: 200,
          body: certificateEntity(await store.get(params.namespace, params.name)),
        };
      },
    },
    {
      method: 'POST',
      path: COLLECTION,
      operationId: 'createCertificates',
      group: 'certificates',
      permission: { verb: 'create', resource: 'mtlscertificates' },
      async handle({ req, params }) {
        const entries = await certificatesFromBody(await readApiBody(req));
        const report = await save(entries, async (upload) =>
          certificateEntity(await store.create(params.namespace, upload)),
        );
        return reportAnswer(report, 201);
      },
    },
    {
      method: 'PUT',
      path: ITEM,
      operationId: 'updateCertificate',
      group: 'certificates',
      permission: { verb: 'update', resource: 'mtlscertificates' },
      async handle({ req, params }) {
        const body = await readApiBody(req);
        const upload =
          body.kind === 'form'
            ? await certificateFromForm(body.form, params.name)
            : certificateFromJson(body.value, params.name);
        const report = await save([upload], async (checkedUpload) =>
          certificateEntity(await store.update(params.namespace, checkedUpload)),
        );
        return reportAnswer(report, 200);
      },
    },
    {
      method: 'DELETE',
      path: ITEM,
      operationId: 'deleteCertificate',
      group: 'certificates',
      permission: { verb: 'delete', resource: 'mtlscertificates' },
      async handle({ params }) {
        await store.delete(params.namespace, params.name);
        return { status: 204 };
      },
    },
  ];
}

/**
 * Refuses an unusable file before anything is written: the analysis the operator would make,
 * made now, so the caller learns at once and no Secret or MtlsCertificate is left behind.
 */
function checked(upload: CertificateUpload): CertificateUpload {
  const analysis = analyzePkcs12(upload.p12, upload.password);
  if (analysis.usable) return upload;
  const [first] = analysis.problems;
  const message = analysis.problems.map((finding) => finding.message).join('; ');
  throw new GatewayError(statusOfCode(first.code), first.code, message);
}

function failureOf(name: string, err: unknown): UploadFailure {
  if (err instanceof GatewayError) return { name, code: err.code, message: err.message };
  if (err instanceof KubeApiError) {
    const code = err.status === 422 ? ErrorCode.ApiRequestInvalid : ErrorCode.KubeApiFailed;
    return { name, code, message: err.message };
  }
  throw err;
}

/** The status of a refused upload: 413 too large, 422 unusable, and the API's own codes. */
export function statusOfCode(code: string): number {
  switch (code) {
    case ErrorCode.InputTooLarge:
    case ErrorCode.ApiBodyTooLarge:
      return 413;
    case ErrorCode.ApiRequestInvalid:
      return 400;
    case ErrorCode.CertificateNotFound:
      return 404;
    case ErrorCode.CertificateExists:
      return 409;
    case ErrorCode.KubeApiFailed:
      return 502;
    default:
      return 422;
  }
}

// All saved, or some: the success status with the report. None: the first failure's status,
// with its code and message beside the report, so the answer reads as an error too.
function reportAnswer(report: SaveReport, success: number): ApiAnswer {
  if (report.saved.length > 0) return { status: success, body: report };
  const [first] = report.failed;
  return {
    status: statusOfCode(first.code),
    body: { code: first.code, message: first.message, ...report },
  };
}
