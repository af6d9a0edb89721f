import { analyzePkcs12 } from '../../../core/certificate/analysis';
import type { ApiRoute } from './api-router';
import { p12UploadFromForm, p12UploadFromJson } from './certificate-upload';
import { readApiBody } from './request-body';

/**
 * The P12 testing tool: the operator's analysis of a PKCS#12 file and password, Java
 * compatibility included, answered at once. Nothing is stored, and no namespace is involved,
 * so being authenticated is enough.
 */
export function p12ToolRoutes(): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/p12/test',
      operationId: 'testP12',
      group: 'p12',
      async handle({ req }) {
        const body = await readApiBody(req);
        const upload =
          body.kind === 'form' ? await p12UploadFromForm(body.form) : p12UploadFromJson(body.value);
        const analysis = analyzePkcs12(upload.p12, upload.password);
        const java = analysis.javaCompatibility;
        return {
          status: 200,
          body: {
            usable: analysis.usable,
            problems: analysis.problems,
            warnings: analysis.warnings,
            certificate: analysis.metadata ?? null,
            javaCompatibility: java
              ? {
                  readableBy: java.readableBy,
                  summary: java.summary,
                  macAlgorithm: java.macAlgorithm ?? null,
                  keyEncryption: java.keyEncryption ?? null,
                  certEncryption: java.certEncryption ?? null,
                }
              : null,
          },
        };
      },
    },
  ];
}
