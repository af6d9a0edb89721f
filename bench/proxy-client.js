// Requests per second of undici's Pool originating mutual TLS directly, and of the whole sidecar
// (plain HTTP in, mutual TLS out), against a local upstream that demands a client certificate.
//
//   npm run build && node bench/proxy-client.js [seconds per run, default 3]
//
// The upstream and the sidecar run in processes of their own; this process only generates load.
// The last line printed is one JSON object of the figures.
'use strict';

const { execFileSync, fork, spawn } = require('node:child_process');
const { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const { Pool } = require('undici');

const seconds = Number(process.argv[2] ?? 3);
const concurrency = 32;

if (process.argv[2] === 'upstream') runUpstream();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });

function runUpstream() {
  const [cert, key, ca] = process.argv.slice(3).map((file) => readFileSync(file, 'utf8'));
  const body = JSON.stringify({ ok: true });
  const server = https.createServer(
    { cert, key, ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    },
  );
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
}

function makePki(dir) {
  const ssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  const file = (name) => path.join(dir, name);
  const key = (name) =>
    ssl(
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      file(`${name}.key`),
    );
  key('ca');
  ssl(
    'req',
    '-x509',
    '-new',
    '-key',
    file('ca.key'),
    '-subj',
    '/CN=Bench CA',
    '-days',
    '1',
    '-out',
    file('ca.crt'),
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    key(name);
    writeFileSync(file(`${name}.ext`), `${ext}\n`);
    ssl(
      'req',
      '-new',
      '-key',
      file(`${name}.key`),
      '-subj',
      `/CN=${name}`,
      '-out',
      file(`${name}.csr`),
    );
    ssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  }
  return { file, read: (name) => readFileSync(file(name), 'utf8') };
}

/** Runs `concurrency` request loops for `seconds`; returns completed requests per second. */
async function measure(send) {
  let done = 0;
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      try {
        await send();
        done++;
      } catch {
        failed++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - started) / 1000;
  return { requestsPerSecond: Math.round(done / elapsed), failed };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mtls-bench-'));
  const children = [];
  try {
    const pki = makePki(dir);
    const upstream = fork(__filename, [
      'upstream',
      pki.file('server.crt'),
      pki.file('server.key'),
      pki.file('ca.crt'),
    ]);
    children.push(upstream);
    const port = await new Promise((resolve) => upstream.once('message', resolve));
    const tls = {
      cert: pki.read('client.crt'),
      key: pki.read('client.key'),
      ca: pki.read('ca.crt'),
    };

    const undiciPool = new Pool(`https://localhost:${port}`, {
      connect: { ...tls, servername: 'localhost' },
    });
    const undici = await measure(async () => {
      const res = await undiciPool.request({ path: '/', method: 'GET' });
      await res.body.dump();
    });
    await undiciPool.close();

    writeFileSync(
      pki.file('sidecar.yaml'),
      [
        'certificates:',
        '  - { name: bench, certFile: client.crt, keyFile: client.key }',
        'mappings:',
        `  - { name: bench, match: { host: localhost, port: ${port}, pathPrefix: / }, certificate: { name: bench }, trustedCaFile: ca.crt }`,
        '',
      ].join('\n'),
    );
    const sidecar = spawn(
      process.execPath,
      [
        path.join(__dirname, '../bin/mtls-sidecar.js'),
        '--namespace',
        'bench',
        '--config-file',
        pki.file('sidecar.yaml'),
        '--listen-port',
        '0',
        '--admin-port',
        '0',
        '--rate',
        '1000000',
        '--burst',
        '1000000',
        '--log-level',
        'info',
      ],
      // The access log goes to a file: a pipe this busy process drains late would block the
      // sidecar's synchronous stderr writes and measure the pipe instead of the proxy.
      { stdio: ['ignore', 'ignore', openSync(pki.file('sidecar.log'), 'w')] },
    );
    children.push(sidecar);
    const ports = await sidecarPorts(pki.file('sidecar.log'), sidecar);
    const proxyPort = ports.proxy;
    const clientPool = new Pool(`http://127.0.0.1:${proxyPort}`, { connections: concurrency });
    const throughSidecar = await measure(async () => {
      const res = await clientPool.request({ path: `http://localhost:${port}/`, method: 'GET' });
      await res.body.dump();
    });
    await clientPool.close();
    const metrics = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
    const handshakes = Number(/^mtls_proxy_tls_handshakes_total (\d+)/m.exec(metrics)?.[1]);

    const figures = {
      concurrency,
      secondsPerRun: seconds,
      undiciPoolMtlsRps: undici.requestsPerSecond,
      sidecarEndToEndRps: throughSidecar.requestsPerSecond,
      sidecarUpstreamHandshakes: handshakes,
      failed: undici.failed + throughSidecar.failed,
    };
    console.log(JSON.stringify(figures));
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads the ports from the sidecar's "sidecar listening" log line. */
async function sidecarPorts(logFile, child) {
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`sidecar exited: ${readFileSync(logFile, 'utf8')}`);
    const match = /"adminPort":(\d+).*"proxyPort":(\d+)/.exec(readFileSync(logFile, 'utf8'));
    if (match) return { admin: Number(match[1]), proxy: Number(match[2]) };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
