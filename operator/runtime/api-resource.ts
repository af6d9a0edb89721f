import http from 'node:http';
import https from 'node:https';

import { ApiException, type KubeConfig } from '@kubernetes/client-node';

import type { InformedObject } from './object-key';

export { collectionPath, type ApiResource } from '../../core/kube/api-paths';

/** A list response: its items and the resourceVersion a watch continues from. */
export type ObjectList<T> = {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
};

// Pages keep a large list from arriving as one huge response.
const PAGE_SIZE = 500;

/**
 * Lists a collection as plain JSON objects, the same shape the watch stream delivers, following
 * continue tokens. The list's resourceVersion is the one to start a watch from.
 */
export async function listCollection<T extends InformedObject>(
  kubeConfig: KubeConfig,
  path: string,
  labelSelector?: string,
): Promise<ObjectList<T>> {
  const items: T[] = [];
  let resourceVersion = '';
  let continueToken: string | undefined;

  do {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (labelSelector) query.set('labelSelector', labelSelector);
    if (continueToken) query.set('continue', continueToken);

    const page = (await getJson(kubeConfig, `${path}?${query}`)) as ObjectList<T>;
    items.push(...(page.items ?? []));
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);

  return { metadata: { resourceVersion }, items };
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
