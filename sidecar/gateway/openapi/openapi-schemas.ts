// The JSON schemas of the gateway's API, as the OpenAPI document's components.

const text = { type: 'string' } as const;
const nullableText = { type: ['string', 'null'] } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const p12Bytes = {
  description:
    'The PKCS#12 file: a JSON array of its bytes (0..255, or Java signed bytes -128..127), ' +
    'or the file in base64.',
  oneOf: [
    { type: 'array', items: { type: 'integer', minimum: -128, maximum: 255 }, maxItems: 65536 },
    { type: 'string', contentEncoding: 'base64' },
  ],
};

// A DNS-1123 subdomain, as the gateway checks names: dot-separated labels, no empty label.
const objectName = {
  type: 'string',
  maxLength: 240,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
} as const;

const finding = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: text, message: text },
};

const verdictProperties = {
  service: nullableText,
  url: text,
  mapped: { type: 'boolean', description: 'An Active mapping covers the URL for the service.' },
  state: {
    type: 'string',
    description:
      'Active; the Ready reason of the best mapping that is not (Disabled, CertificateNotReady, ' +
      'Conflict, Pending...); Missing when no mapping covers the URL; InvalidUrl.',
  },
  mapping: nullableText,
  certificate: nullableText,
  certificateStatus: {
    type: ['string', 'null'],
    enum: ['Available', 'UnAvailable', 'Expired', 'Missing', null],
  },
  message: nullableText,
};

/** Every schema the document names. */
export const schemas = {
  ObjectName: { ...objectName, description: 'A Kubernetes object name (DNS-1123 subdomain).' },
  Problem: {
    type: 'object',
    description: 'Every refusal: a stable code (docs/errors.md) and a message.',
    required: ['code', 'message'],
    properties: { code: text, message: text },
  },
  Certificate: {
    type: 'object',
    description: 'An MtlsCertificate; never its file, password or key.',
    required: ['id', 'name', 'displayName', 'status', 'expirationDate', 'statusMessage'],
    properties: {
      id: { type: 'string', description: "The MtlsCertificate's uid." },
      name: text,
      displayName: text,
      status: { type: 'string', enum: ['Available', 'UnAvailable', 'Expired'] },
      expirationDate: { type: ['string', 'null'], format: 'date-time' },
      statusMessage: { type: ['string', 'null'], description: 'Why it is not Available.' },
    },
  },
  CertificateUpload: {
    type: 'object',
    required: ['name', 'password', 'p12'],
    properties: {
      name: ref('ObjectName'),
      displayName: text,
      password: { type: 'string', writeOnly: true },
      p12: p12Bytes,
    },
  },
  CertificateReplacement: {
    type: 'object',
    description: "The path names the certificate; a name in the body must be the path's.",
    required: ['password', 'p12'],
    properties: {
      name: ref('ObjectName'),
      displayName: text,
      password: { type: 'string', writeOnly: true },
      p12: p12Bytes,
    },
  },
  CertificateForm: {
    type: 'object',
    description: 'The same as a form; the file part may also be named `file`.',
    required: ['name', 'password', 'p12'],
    properties: {
      name: text,
      displayName: text,
      password: { type: 'string', writeOnly: true },
      p12: { type: 'string', contentMediaType: 'application/x-pkcs12' },
    },
  },
  CertificateReplacementForm: {
    type: 'object',
    description: "The same as a form; a name field, when sent, must be the path's.",
    required: ['password', 'p12'],
    properties: {
      name: text,
      displayName: text,
      password: { type: 'string', writeOnly: true },
      p12: { type: 'string', contentMediaType: 'application/x-pkcs12' },
    },
  },
  UploadFailure: {
    type: 'object',
    required: ['name', 'code', 'message'],
    properties: { name: text, code: text, message: text },
  },
  SaveReport: {
    type: 'object',
    description:
      'What was saved and why the rest was not. When nothing was saved, the answer is the ' +
      "first failure's status, with its code and message beside the lists.",
    required: ['saved', 'failed'],
    properties: {
      code: text,
      message: text,
      saved: { type: 'array', items: ref('Certificate') },
      failed: { type: 'array', items: ref('UploadFailure') },
    },
  },
  P12Test: {
    type: 'object',
    required: ['password', 'p12'],
    properties: { password: { type: 'string', writeOnly: true }, p12: p12Bytes },
  },
  P12TestForm: {
    type: 'object',
    required: ['password', 'p12'],
    properties: {
      password: { type: 'string', writeOnly: true },
      p12: { type: 'string', contentMediaType: 'application/x-pkcs12' },
    },
  },
  Finding: finding,
  P12Verdict: {
    type: 'object',
    required: ['usable', 'problems', 'warnings', 'certificate', 'javaCompatibility'],
    properties: {
      usable: { type: 'boolean' },
      problems: { type: 'array', items: ref('Finding') },
      warnings: { type: 'array', items: ref('Finding') },
      certificate: {
        type: ['object', 'null'],
        properties: {
          subject: text,
          issuer: text,
          serialNumber: text,
          notBefore: { type: 'string', format: 'date-time' },
          notAfter: { type: 'string', format: 'date-time' },
          keyAlgorithm: { type: 'string', enum: ['RSA', 'EC'] },
          keySize: { type: 'integer' },
          curve: text,
          fingerprintSha256: text,
        },
      },
      javaCompatibility: {
        type: ['object', 'null'],
        properties: {
          readableBy: { type: 'array', items: text },
          summary: text,
          macAlgorithm: nullableText,
          keyEncryption: nullableText,
          certEncryption: nullableText,
        },
      },
    },
  },
  Mapping: {
    type: 'object',
    required: ['id', 'name', 'url', 'certificateName', 'serviceName', 'enabled', 'state'],
    properties: {
      id: { type: 'string', description: "The MtlsMapping's uid." },
      name: text,
      url: text,
      certificateName: text,
      serviceName: nullableText,
      enabled: { type: 'boolean' },
      state: { type: 'string', description: 'Active, a Ready reason, or Pending.' },
      message: nullableText,
    },
  },
  NewMapping: {
    type: 'object',
    required: ['url', 'certificateName'],
    properties: {
      name: { type: 'string', description: 'Made by the apiserver from `mapping-` when absent.' },
      url: { type: 'string', description: 'https URL: host (or *.domain), port, path prefix.' },
      certificateName: text,
      serviceName: { type: 'string', description: 'The service the mapping applies to.' },
      validate: {
        type: 'boolean',
        default: false,
        description: 'Call the URL over mutual TLS with the certificate first (424 on failure).',
      },
    },
  },
  MappingEnabledChange: {
    type: 'object',
    required: ['enabled'],
    additionalProperties: false,
    properties: {
      enabled: {
        type: 'boolean',
        description: 'true activates the mapping, false deactivates it.',
      },
      validate: {
        type: 'boolean',
        default: false,
        description: 'When activating, call the URL over mutual TLS first (424 on failure).',
      },
    },
  },
  CheckQuery: {
    type: 'object',
    description: 'In v1, an OAuth consumer of a single namespace may leave out namespace.',
    required: ['url'],
    properties: {
      namespace: text,
      service: nullableText,
      serviceName: { ...nullableText, description: 'The same as service.' },
      url: text,
    },
  },
  AccountCheckQuery: {
    type: 'object',
    required: ['url'],
    properties: {
      service: nullableText,
      serviceName: { ...nullableText, description: 'The same as service.' },
      url: text,
    },
  },
  CheckVerdict: {
    type: 'object',
    required: Object.keys(verdictProperties),
    properties: verdictProperties,
  },
  NamespacedCheckVerdict: {
    type: 'object',
    required: ['namespace', ...Object.keys(verdictProperties)],
    properties: { namespace: text, ...verdictProperties },
  },
};
