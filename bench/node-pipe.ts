import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

// The floor of any proxy written in Node on this machine: each plain TCP connection from the
// client is piped to a mutual-TLS connection of its own to the upstream, with no HTTP parsing,
// no routing and no pool. What it adds at a paced rate is what the event loop, TLS and the
// extra hop cost, which the sidecar's added latency is read against. It runs in a process of its
// own (forked by bench/peers.ts) and sends its port to the parent.

function main(upstreamPort: number, certFile: string, keyFile: string, caFile: string): void {
  const identity = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  const ca = readFileSync(caFile);

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = tls.connect({
      host: '127.0.0.1',
      port: upstreamPort,
      servername: 'localhost',
      ca,
      ...identity,
    });
    upstream.setNoDelay(true);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });

  server.listen(0, '127.0.0.1', () => {
    process.send?.((server.address() as AddressInfo).port);
  });
  process.on('disconnect', () => process.exit(0));
}

const [upstreamPort, certFile, keyFile, caFile] = process.argv.slice(2);
main(Number(upstreamPort), certFile, keyFile, caFile);
