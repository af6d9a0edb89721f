import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { freePort } from '../test/fixtures/free-port';
import { startListening, type Peer, type PeerCertificates } from './peers';

// The proxies the sidecar is compared with (`make bench-tools`: ghostunnel built from the Go
// module proxy, nginx and stunnel from Debian), each configured in a folder of the bench with
// free loopback ports and run as the current user.

/**
 * nginx as a reverse proxy that originates mutual TLS, with pooled upstream connections. One
 * worker process, to match the sidecar's single event loop; its access log stays on, like the
 * sidecar's.
 */
export async function startNginx(
  dir: string,
  certs: PeerCertificates,
  upstreamPort: number,
): Promise<Peer> {
  const port = await freePort();
  const root = process.getuid?.() === 0 ? 'user root;\n' : '';
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${root}worker_processes 1;
events { worker_connections 4096; }
http {
  access_log ${path.join(dir, 'nginx-access.log')};
  upstream mtls_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://mtls_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host localhost;
      proxy_ssl_certificate ${certs.clientCertFile};
      proxy_ssl_certificate_key ${certs.clientKeyFile};
      proxy_ssl_trusted_certificate ${certs.caFile};
      proxy_ssl_verify on;
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
    }
  }
}
`,
  );
  return startListening(
    'nginx',
    'nginx',
    [
      '-p',
      dir,
      '-c',
      path.join(dir, 'nginx.conf'),
      '-g',
      `daemon off; pid ${path.join(dir, 'nginx.pid')}; error_log stderr;`,
    ],
    port,
    path.join(dir, 'nginx.log'),
  );
}

/**
 * ghostunnel in client mode: plain TCP in, mutual TLS out, one upstream connection (and one
 * handshake) per client connection. Its logging stays at the default, one line a connection.
 */
export async function startGhostunnel(
  dir: string,
  certs: PeerCertificates,
  upstreamPort: number,
  binary: string,
): Promise<Peer> {
  const port = await freePort();
  return startListening(
    'ghostunnel',
    binary,
    [
      'client',
      '--listen',
      `127.0.0.1:${port}`,
      '--target',
      `127.0.0.1:${upstreamPort}`,
      '--cert',
      certs.clientCertFile,
      '--key',
      certs.clientKeyFile,
      '--cacert',
      certs.caFile,
      '--override-server-name',
      'localhost',
    ],
    port,
    path.join(dir, 'ghostunnel.log'),
  );
}

/**
 * stunnel in client mode, the same pattern as ghostunnel from a C program. Its log level stays
 * at the default.
 */
export async function startStunnel(
  dir: string,
  certs: PeerCertificates,
  upstreamPort: number,
): Promise<Peer> {
  const port = await freePort();
  const config = path.join(dir, 'stunnel.conf');
  writeFileSync(
    config,
    `foreground = yes
pid =
[mtls-upstream]
client = yes
accept = 127.0.0.1:${port}
connect = 127.0.0.1:${upstreamPort}
cert = ${certs.clientCertFile}
key = ${certs.clientKeyFile}
CAfile = ${certs.caFile}
verifyChain = yes
checkHost = localhost
sni = localhost
`,
  );
  return startListening('stunnel', 'stunnel4', [config], port, path.join(dir, 'stunnel.log'));
}
