/** The apiserver address Kubernetes gives every pod in its environment, when in a pod. */
export function inClusterApiserver(): { host: string; port: string } | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  return host && port ? { host, port } : undefined;
}
