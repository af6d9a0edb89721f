import yaml from 'js-yaml';

import type { ApiRoute } from '../api/api-router';

/** The document served as JSON and as YAML, without authentication. */
export function openApiRoutes(document: Record<string, unknown>): ApiRoute[] {
  const asJson = JSON.stringify(document);
  const asYaml = yaml.dump(document, { noRefs: true, lineWidth: 100 });
  return [
    {
      method: 'GET',
      path: '/api/openapi.json',
      operationId: 'getOpenApiJson',
      group: 'public',
      async handle() {
        return { status: 200, text: { contentType: 'application/json', content: asJson } };
      },
    },
    {
      method: 'GET',
      path: '/api/openapi.yaml',
      operationId: 'getOpenApiYaml',
      group: 'public',
      async handle() {
        return { status: 200, text: { contentType: 'application/yaml', content: asYaml } };
      },
    },
  ];
}
