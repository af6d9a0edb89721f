// Transparent egress end to end, in network namespaces this test makes: a "pod" namespace where
// the real mtls-egress-init applies its nat rules and the real sidecar runs as UID 1337, joined
// by a veth pair to a "partner" namespace whose HTTPS server demands a client certificate. The
// application in the pod calls http://partner.example/ with no proxy setting at all.
import { chownSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { LoopbackPki } from '../fixtures/loopback-pki';
import { writeSidecarFile } from '../fixtures/sidecar-harness';
import {
  joinByVeth,
  networkNamespaceProblem,
  NetworkNamespace,
  type CommandResult,
} from './network-namespace';

const REPO = path.resolve(__dirname, '../..');
const NODE = process.execPath;
const PEERS = path.join(REPO, 'test/fixtures/egress-peers.js');
const EGRESS_INIT = path.join(REPO, 'bin/mtls-egress-init.js');
const SIDECAR = path.join(REPO, 'bin/mtls-sidecar.js');
const PROXY_UID = '1337';
const AS_PROXY_USER = ['setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups'];

const problem = networkNamespaceProblem();
if (problem) console.warn(`transparent egress test skipped: ${problem}`);
const describeWithNamespaces = problem ? describe.skip : describe;

describeWithNamespaces('transparent egress through iptables', () => {
  const id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const net = `10.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const partnerAddress = `${net}.2`;
  let pod: NetworkNamespace | undefined;
  let partner: NetworkNamespace | undefined;
  let pki: LoopbackPki | undefined;
  let firstRun: CommandResult;
  let rulesAfterFirstRun: string;
  const initFlags = ['--proxy-port', '15001', '--proxy-uid', PROXY_UID, '--egress-ports', '80'];

  // Processes in the namespaces get only PATH: the application has no proxy setting.
  const inPod = (command: string[]) => pod!.exec(command);
  const natRules = async (): Promise<string> => {
    const saved = await inPod(['iptables-save', '-t', 'nat']);
    expect(saved.status).toBe(0);
    // Comments carry the time; counters change with traffic. The rules are the rest.
    return saved.stdout
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .map((line) => line.replace(/ \[\d+:\d+\]$/, ''))
      .join('\n');
  };
  const get = async (url: string, options: { host?: string; asProxyUser?: boolean } = {}) => {
    const user = options.asProxyUser ? AS_PROXY_USER : [];
    const args = options.host ? [url, options.host] : [url];
    const result = await inPod([...user, NODE, PEERS, 'get', ...args]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    return JSON.parse(result.stdout) as { status?: number; body?: string; error?: string };
  };

  beforeAll(async () => {
    if (!existsSync(path.join(REPO, 'dist/sidecar/egress/main.js'))) {
      throw new Error('dist/ has no mtls-egress-init: run make build (or npm run build) first');
    }
    pod = NetworkNamespace.add(`mtls-pod-${id}`);
    partner = NetworkNamespace.add(`mtls-partner-${id}`);
    joinByVeth(
      { namespace: pod, device: `mtp${id}`, address: `${net}.1/30` },
      { namespace: partner, device: `mtu${id}`, address: `${partnerAddress}/30` },
    );
    pod.writeHosts({ 'partner.example': partnerAddress });

    // The partner: mutual TLS on 443; plain HTTP on 80 and 8080 shows who was not redirected.
    pki = new LoopbackPki('Partner CA');
    const server = pki.server('partner', ['partner.example']);
    const client = pki.client('shop-client');
    const tls = ['mtls', '443', server.certFile, server.keyFile, pki.ca.certFile];
    await partner.start([NODE, PEERS, ...tls], /listening/);
    await partner.start([NODE, PEERS, 'plain', '0.0.0.0', '80', 'partner:80'], /listening/);
    await partner.start([NODE, PEERS, 'plain', '0.0.0.0', '8080', 'partner:8080'], /listening/);
    await pod.start([NODE, PEERS, 'plain', '0.0.0.0', '80', 'pod-local:80'], /listening/);

    // The sidecar's standalone file maps https://partner.example/ to the client certificate.
    const file = writeSidecarFile(
      pki,
      [{ name: 'partner-cert', certFile: client.certFile, keyFile: client.keyFile }],
      [{ name: 'partner-api', host: 'partner.example', port: 443, certificate: 'partner-cert' }],
    );
    for (const name of ['', ...readdirSync(pki.dir)]) {
      chownSync(path.join(pki.dir, name), Number(PROXY_UID), Number(PROXY_UID));
    }
    await pod.start(
      [...AS_PROXY_USER, NODE, SIDECAR, ...['--namespace', 'shop', '--config-file', file]],
      /"message":"sidecar listening"/,
    );

    // What an injected pod's init container does before the application starts.
    firstRun = await inPod([NODE, EGRESS_INIT, ...initFlags]);
    rulesAfterFirstRun = await natRules();
  });

  afterAll(async () => {
    // Each step runs even when one before it failed, so nothing outlives the test.
    const steps = [() => pod?.delete(), () => partner?.delete(), () => pki?.dispose()];
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw failures[0];
  });

  it('applies the rules with mtls-egress-init; a second run leaves the same rules', async () => {
    expect(firstRun.status).toBe(0);
    expect(firstRun.stderr).toContain('"message":"egress rules applied"');
    expect(rulesAfterFirstRun.split('\n')).toEqual(
      expect.arrayContaining([
        ':MTLS_EGRESS -',
        '-A OUTPUT -j MTLS_EGRESS',
        `-A MTLS_EGRESS -m owner --uid-owner ${PROXY_UID} -j RETURN`,
        '-A MTLS_EGRESS -d 127.0.0.0/8 -j RETURN',
        '-A MTLS_EGRESS -o lo -j RETURN',
        '-A MTLS_EGRESS -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 15001',
      ]),
    );

    const second = await inPod([NODE, EGRESS_INIT, ...initFlags]);
    expect(second.status).toBe(0);
    expect(await natRules()).toBe(rulesAfterFirstRun);
  });

  it('answers a plain call to http://partner.example/ over mutual TLS', async () => {
    const answer = await get('http://partner.example/accounts?page=2');

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body!)).toEqual({
      clientSubject: 'CN=shop-client',
      host: 'partner.example',
      path: '/accounts?page=2',
    });
  });

  it('treats a Host header naming port 80 as the same destination', async () => {
    const answer = await get('http://partner.example/x', { host: 'partner.example:80' });

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body!)).toMatchObject({ clientSubject: 'CN=shop-client' });
  });

  it('leaves other ports, loopback, the pod itself and the proxy user alone', async () => {
    const otherPort = await get('http://partner.example:8080/x');
    expect(JSON.parse(otherPort.body!)).toMatchObject({ direct: 'partner:8080' });

    const loopback = await get('http://127.0.0.1/x');
    expect(JSON.parse(loopback.body!)).toMatchObject({ direct: 'pod-local:80' });

    const podItself = await get(`http://${net}.1/x`);
    expect(JSON.parse(podItself.body!)).toMatchObject({ direct: 'pod-local:80' });

    const proxyUser = await get('http://partner.example/x', { asProxyUser: true });
    expect(JSON.parse(proxyUser.body!)).toMatchObject({ direct: 'partner:80' });
  });

  it('calls an excluded CIDR directly, as an in-cluster Service is called', async () => {
    const excluded = await inPod([
      NODE,
      EGRESS_INIT,
      ...initFlags,
      '--excluded-cidrs',
      `${net}.0/30`,
    ]);
    expect(excluded.status).toBe(0);
    try {
      const answer = await get('http://partner.example/x');
      expect(JSON.parse(answer.body!)).toMatchObject({ direct: 'partner:80' });
    } finally {
      expect((await inPod([NODE, EGRESS_INIT, ...initFlags])).status).toBe(0);
    }
    expect(await natRules()).toBe(rulesAfterFirstRun);
  });

  it('shows the partner refuses a call that brings no client certificate', async () => {
    const result = await inPod([
      NODE,
      PEERS,
      'get',
      'https://partner.example/x',
      'partner.example',
      pki!.ca.certFile,
    ]);
    const answer = JSON.parse(result.stdout) as { error?: string };
    expect(answer.error).toMatch(/certificate|alert|socket hang up|ECONNRESET/i);
  });

  it('fails with EGRESS_IPTABLES_FAILED without privileges, leaving the table', async () => {
    const before = await natRules();
    const result = await inPod([...AS_PROXY_USER, NODE, EGRESS_INIT, '--egress-ports', '8080']);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('"code":"EGRESS_IPTABLES_FAILED"');
    expect(result.stderr).toContain('must run as root with the NET_ADMIN and NET_RAW');
    expect(await natRules()).toBe(before);
  });
});
