import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import type { KubeClient } from '../../core/kube/kube-client';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import {
  adminKube,
  callGateway,
  namespaceWithCaller,
  startGateway,
  type ApiCall,
} from './gateway-harness';
import { applyCrds } from './operator-harness';
import { responseProblems, type OpenApiDocument } from './openapi-conformance';

// The OpenAPI document: what the gateway serves, what is committed, and what it routes agree.
// `MTLS_WRITE_OPENAPI=1` writes the served document to docs/openapi.yaml first.

const ROOT = path.resolve(__dirname, '../..');
const COMMITTED = path.join(ROOT, 'docs/openapi.yaml');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

const pki = useCorpusPki();
let gateway: Gateway;
let kube: KubeClient;

beforeAll(async () => {
  applyCrds();
  gateway = await startGateway();
  kube = adminKube();
  if (process.env.MTLS_WRITE_OPENAPI === '1') {
    writeFileSync(COMMITTED, (await callGateway(gateway, '/api/openapi.yaml')).text);
    execFileSync(path.join(ROOT, 'node_modules/.bin/prettier'), ['--write', COMMITTED]);
  }
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  kube?.close();
});

type Document = { paths: Record<string, Record<string, { operationId?: string }>> };

function operations(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([route, item]) =>
    METHODS.filter((method) => item[method]).map(
      (method) => `${method.toUpperCase()} ${route} ${item[method].operationId}`,
    ),
  );
}

describe('the OpenAPI document', () => {
  it('is served as JSON and YAML, equal to the committed docs/openapi.yaml', async () => {
    const committed = yaml.load(readFileSync(COMMITTED, 'utf8'));

    const asJson = await callGateway(gateway, '/api/openapi.json');
    expect(asJson.status).toBe(200);
    expect(asJson.body).toEqual(committed);
    const asYaml = await callGateway(gateway, '/api/openapi.yaml');
    expect(asYaml.headers.get('content-type')).toBe('application/yaml');
    expect(yaml.load(asYaml.text)).toEqual(committed);
  });

  it('is a valid OpenAPI 3.1 document', () => {
    const cli = path.join(ROOT, 'node_modules/@seriousme/openapi-schema-validator/bin');
    const result = spawnSync(process.execPath, [path.join(cli, 'validate-api-cli.js'), COMMITTED], {
      encoding: 'utf8',
    });
    expect(`${result.stdout}${result.stderr}`).toContain('"valid": true');
    expect(result.status).toBe(0);
  });

  it('documents exactly the operations the gateway routes', () => {
    const routed = gateway.routes.map(
      ({ method, path: route, operationId }) => `${method} ${route} ${operationId}`,
    );
    expect(operations(gateway.document as Document).sort()).toEqual(routed.sort());
  });

  it('has every documented operation answered over HTTP', async () => {
    const document = gateway.document as Document;
    for (const [route, item] of Object.entries(document.paths)) {
      const concrete = route.replace('{namespace}', 'default').replace('{name}', 'some-name');
      for (const method of METHODS.filter((name) => item[name])) {
        const result = await callGateway(gateway, concrete, {
          method: method.toUpperCase(),
          headers: { 'lp-forward-url': 'https://partner.example/' },
        });
        const where = `${method.toUpperCase()} ${route}`;
        // Public operations answer; every other one asks who is calling before anything else.
        const expected = route.startsWith('/api/openapi') ? 200 : 401;
        expect({ where, status: result.status }).toEqual({ where, status: expected });
      }
    }
  });
});

describe("the gateway's answers", () => {
  it('agree with the response schemas of the document, refusals included', async () => {
    const document = gateway.document as OpenApiDocument;
    const { token, path: certificates } = await namespaceWithCaller(kube, 'gw-doc', 'certificates');
    const mappings = certificates.replace(/certificates$/, 'mappings');
    const route = (path: string) => path.replace(/accounts\/[^/]+/, 'accounts/{namespace}');
    const p12 = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.modern).bytes;
    const upload = { password: P12_PASSWORD, p12: p12.toString('base64') };

    const seen: string[] = [];
    const answer = async (operation: string, path: string, call: ApiCall & { as?: string }) => {
      const method = call.method ?? (call.json === undefined ? 'GET' : 'POST');
      const result = await callGateway(gateway, path, { token, ...call, method });
      const documented = route(call.as ?? path);
      const problems = responseProblems(
        document,
        { method, path: documented },
        result.status,
        result.body,
      );
      seen.push(`${operation} ${result.status}`);
      expect({ operation, status: result.status, problems }).toEqual({
        operation,
        status: result.status,
        problems: [],
      });
      return result;
    };
    const item = (collection: string, name: string) => ({
      path: `${collection}/${name}`,
      as: `${collection}/{name}`,
    });

    await answer('create', certificates, { json: { name: 'doc', ...upload } });
    await answer('create a list', certificates, { json: [{ name: 'doc-list', ...upload }, {}] });
    await answer('list', certificates, {});
    const doc = item(certificates, 'doc');
    await answer('get', doc.path, { as: doc.as });
    await answer('replace', doc.path, { as: doc.as, method: 'PUT', json: upload });
    const badPassword = { ...upload, password: 'wrong' };
    await answer('replace, wrong password', doc.path, {
      as: doc.as,
      method: 'PUT',
      json: badPassword,
    });
    const missing = item(certificates, 'absent');
    await answer('get, missing', missing.path, { as: missing.as });
    await answer('without a token', certificates, { token: '' });

    const mapping = { name: 'doc', url: 'https://api.partner.example/', certificateName: 'doc' };
    await answer('create a mapping', mappings, { json: mapping });
    await answer('create a mapping twice', mappings, { json: mapping });
    await answer('list mappings', mappings, {});
    const docMapping = item(mappings, 'doc');
    const disable = { method: 'PATCH', json: { enabled: false } };
    await answer('disable a mapping', docMapping.path, { as: docMapping.as, ...disable });
    await answer('test a P12', '/api/v1/p12/test', { json: upload });
    await answer('test a P12 with a bad password', '/api/v1/p12/test', { json: badPassword });
    await answer('check with a Bearer token', '/api/v2/configuration/check', {
      json: { checks: [] },
    });

    // The document's name pattern refuses what the gateway refuses.
    const names = new RegExp(String(document.components.schemas.ObjectName.pattern));
    expect(['a.b', 'a..b', '.a', 'a.'].map((name) => names.test(name))).toEqual([
      true,
      false,
      false,
      false,
    ]);
    const dotted = item(certificates, 'a..b');
    await answer('replace a..b', dotted.path, { as: dotted.as, method: 'PUT', json: upload });

    expect(seen).toEqual([
      'create 201',
      'create a list 201',
      'list 200',
      'get 200',
      'replace 200',
      'replace, wrong password 422',
      'get, missing 404',
      'without a token 401',
      'create a mapping 201',
      'create a mapping twice 409',
      'list mappings 200',
      'disable a mapping 200',
      'test a P12 200',
      'test a P12 with a bad password 200',
      'check with a Bearer token 401',
      'replace a..b 400',
    ]);
  });

  it('agree with the document when the rate limit refuses', async () => {
    const limited = await startGateway(['--rate', '1', '--burst', '1']);
    try {
      const document = limited.document as OpenApiDocument;
      const operation = { method: 'GET', path: '/api/openapi.json' };
      await callGateway(limited, operation.path);
      const refused = await callGateway(limited, operation.path);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(responseProblems(document, operation, 429, refused.body)).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
