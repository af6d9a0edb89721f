import http from 'node:http';
import https from 'node:https';

import {
  ApiException,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

/** A kind of object the apiserver serves: `group` is empty for the core group (Secrets, ...). */
export type ApiResource = {
  group: string;
  version: string;
  plural: string;
  kind: string;
};

/** The URL path of a collection, across the cluster or in one namespace. */
export function collectionPath(resource: ApiResource, namespace?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : '/api/v1';
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${scope}/${resource.plural}`;
}

// Pages keep a large list from arriving as one huge response.
const PAGE_SIZE = 500;

/**
 * Lists a collection as plain JSON objects, the same shape the watch stream delivers, following
 * continue tokens. The list's resourceVersion is the one to start a watch from.
 */
export async function listCollection<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  labelSelector?: string,
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let resourceVersion = '';
  let continueToken: string | undefined;

  do {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (labelSelector) query.set('labelSelector', labelSelector);
    if (continueToken) query.set('continue', continueToken);

    const page = (await getJson(kubeConfig, `${path}?${query}`)) as KubernetesListObject<T>;
    items.push(...(page.items ?? []));
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    continueToken = page.metadata?._continue || undefined;
  } while (continueToken);

  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items };
}

async function getJson(kubeConfig: KubeConfig, pathAndQuery: string): Promise<unknown> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster: set its current-context');

  const url = new URL(server.replace(/\/$/, '') + pathAndQuery);
  const options: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  await kubeConfig.applyToHTTPSOptions(options);
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    const request = transport.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          reject(new ApiException(status, `list ${url.pathname} failed`, body, {}));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    });
    request.on('error', reject);
    request.end();
  });
}
