import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { useCorpusPki } from '../fixtures/certificate-corpus';
import { kubectl, uniqueName } from './ground';
import { adminVault, applyCrds, Resources } from './operator-harness';

// What a user reads in a terminal: kubectl's columns and explanations of the custom resources,
// and the operator's own --help and refusals of bad flags.

const pki = useCorpusPki();

beforeAll(() => {
  applyCrds();
}, 120_000);

function operatorCli(...args: string[]) {
  const bin = path.resolve(__dirname, '../../bin/mtls-operator.js');
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 'unused' },
  });
}

it('kubectl get shows the printer columns of certificates and mappings', async () => {
  const resources = new Resources(uniqueName('columns'));
  await resources.createNamespace();
  const path = `teams/${resources.namespace}/shown`;
  await adminVault().write(`secret/data/${path}`, {
    data: { certificate: pki.leaf.certPem, private_key: pki.leaf.keyPem },
  });
  await resources.createCertificate('shown', { source: { vault: { path } } });
  await resources.createMapping('shown', {
    url: 'https://shown.example/',
    certificateName: 'shown',
  });

  const table = kubectl('get', 'mcert,mmap', '--namespace', resources.namespace);
  const lines = table.split('\n').filter((line) => line.trim() !== '');

  expect(lines[0].split(/\s+/)).toEqual(['NAME', 'READY', 'REASON', 'EXPIRES', 'AGE']);
  expect(lines[1]).toMatch(/^mtlscertificate\.mtls\.io\/shown\s/);
  const mappingHeader = lines.findIndex((line) => line.startsWith('NAME') && line.includes('URL'));
  expect(lines[mappingHeader].split(/\s+/)).toEqual([
    'NAME',
    'URL',
    'CERTIFICATE',
    'READY',
    'REASON',
    'AGE',
  ]);
  expect(lines[mappingHeader + 1]).toMatch(
    /^mtlsmapping\.mtls\.io\/shown\s+https:\/\/shown\.example\/\s+shown\s/,
  );
});

it('kubectl explain describes the fields of a certificate source and a mapping', () => {
  const source = kubectl('explain', 'mcert.spec.source');
  expect(source).toContain('Exactly one of pkcs12, pem or vault.');
  expect(source).toMatch(/vault\s+<Object>\s+An existing KV v2 secret, adopted as it is/);

  const trustedCa = kubectl('explain', 'mcert.spec.trustedCA');
  expect(trustedCa).toMatch(/configMapName\s+<string> -required-\s+The ConfigMap of this/);
  expect(trustedCa).toMatch(/key\s+<string>\s+The ConfigMap key of the PEM CA certificates/);

  const mapping = kubectl('explain', 'mmap.spec');
  expect(mapping).toContain('The URL to match, the MtlsCertificate to present for it');
});

it('mtls-operator --help lists its options and exits 0', () => {
  const help = operatorCli('--help');
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: mtls-operator [options]');
  expect(help.stdout).toContain('--adopted-recheck-interval');
  expect(help.stdout).toContain('--resync-interval');
});

it('mtls-operator refuses a bad flag with exit code 2 and names it', () => {
  const unknown = operatorCli('--vault-timout', '5s');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toBe('mtls-operator: unknown flag --vault-timout (see --help)\n');

  const zero = operatorCli('--vault-timeout', '0s');
  expect(zero.status).toBe(2);
  expect(zero.stderr).toBe(
    'mtls-operator: --vault-timeout is invalid: expected a duration above zero, such as 15s, ' +
      "got '0s'\n",
  );
});
