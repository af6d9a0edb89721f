import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import type { Gateway } from '../../sidecar/gateway/gateway';
import { callGateway, startGateway } from './gateway-harness';

// The OpenAPI document: what the gateway serves, what is committed, and what it routes agree.
// `MTLS_WRITE_OPENAPI=1` writes the served document to docs/openapi.yaml first.

const ROOT = path.resolve(__dirname, '../..');
const COMMITTED = path.join(ROOT, 'docs/openapi.yaml');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
  if (process.env.MTLS_WRITE_OPENAPI === '1') {
    writeFileSync(COMMITTED, (await callGateway(gateway, '/api/openapi.yaml')).text);
    execFileSync(path.join(ROOT, 'node_modules/.bin/prettier'), ['--write', COMMITTED]);
  }
}, 60_000);

afterAll(async () => {
  await gateway?.close();
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
