import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

// The upstream every path of the proxy comparison calls: HTTPS on 127.0.0.1 that refuses a
// client without a certificate from the bench CA. It runs in a process of its own (forked by
// bench/peers.ts) and sends its port to the parent.

function main(certFile: string, keyFile: string, caFile: string): void {
  const body = JSON.stringify({ ok: true });
  const server = https.createServer(
    {
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      ca: readFileSync(caFile),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      });
    },
  );

  // Proxies keep their upstream connections for as long as the bench runs.
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.((server.address() as AddressInfo).port);
  });
  process.on('disconnect', () => process.exit(0));
}

const [certFile, keyFile, caFile] = process.argv.slice(2);
main(certFile, keyFile, caFile);
