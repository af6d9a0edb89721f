import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { hasCode } from '../../core/errors/codes';
import {
  DEFAULT_INJECTION_CONFIG,
  loadInjectionConfig,
  parseInjectionConfig,
} from './injection-config';

describe('parseInjectionConfig', () => {
  it('takes the defaults of the contract when the document is empty', () => {
    expect(parseInjectionConfig(null)).toEqual(DEFAULT_INJECTION_CONFIG);
    expect(parseInjectionConfig({})).toEqual(DEFAULT_INJECTION_CONFIG);
    expect(DEFAULT_INJECTION_CONFIG.sidecar.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { memory: '128Mi' },
    });
  });

  it('overrides field by field, and replaces resources whole', () => {
    const config = parseInjectionConfig({
      sidecar: { image: 'registry.example/sidecar:1', resources: { limits: { cpu: 1 } } },
      vault: { address: 'http://127.0.0.1:8200/' },
      egress: { mode: 'proxy-env', ports: [80, 8080, 80] },
    });
    expect(config.sidecar.image).toBe('registry.example/sidecar:1');
    expect(config.sidecar.proxyPort).toBe(15001);
    expect(config.sidecar.resources).toEqual({ limits: { cpu: '1' } });
    expect(config.vault.address).toBe('http://127.0.0.1:8200');
    expect(config.vault.role).toBe('mtls-sidecar');
    expect(config.egress).toEqual({
      ...DEFAULT_INJECTION_CONFIG.egress,
      mode: 'proxy-env',
      ports: [80, 8080],
    });
  });

  it.each([
    [{ sidecar: { proxyPort: 'x' } }, 'sidecar.proxyPort: expected a whole number from 1 to 65535'],
    [{ sidecar: { uid: 0 } }, 'sidecar.uid: expected a whole number from 1 to 2147483647, got 0'],
    [{ sidecar: { refreshInterval: '5 minutes' } }, 'sidecar.refreshInterval: expected a duration'],
    [{ sidecar: { unmapped: 'allow' } }, 'sidecar.unmapped: expected one of deny, passthrough'],
    [{ sidecar: { rateLimit: 0 } }, 'sidecar.rateLimit: expected a positive number, got 0'],
    [{ sidecar: { imagePullPolicy: 'Sometimes' } }, 'sidecar.imagePullPolicy: expected one of'],
    [{ sidecar: { adminPort: 15001 } }, 'sidecar.adminPort: must differ from sidecar.proxyPort'],
    [
      { sidecar: { resources: { requests: { cpu: 'lots' } } } },
      'sidecar.resources.requests.cpu: expected a quantity such as 50m',
    ],
    [
      { sidecar: { resources: { requests: { gpu: 1 } } } },
      'sidecar.resources.requests.gpu: unknown field',
    ],
    [
      { sidecar: { resources: { requests: { memory: '1Gi' }, limits: { memory: '64Mi' } } } },
      'sidecar.resources: the memory request 1Gi is over the memory limit 64Mi',
    ],
    [{ sidecar: { imge: 'x' } }, 'sidecar.imge: unknown field'],
    [{ vault: { address: 'vault:8200' } }, 'vault.address: expected an http or https URL'],
    [{ vault: { role: '' } }, 'vault.role: expected a non-empty text, got ""'],
    [{ egress: { mode: 'tproxy' } }, 'egress.mode: expected one of iptables, proxy-env'],
    [{ egress: { ports: [80, 70000] } }, 'egress.ports: expected a whole number from 1 to 65535'],
    [{ egress: { ports: [] } }, 'egress.ports: expected a list of ports'],
    [
      { egress: { ports: [80, 15001] } },
      "egress.ports: [80,15001] includes 15001, the sidecar's proxy port",
    ],
    [
      { sidecar: { proxyPort: 8080 }, egress: { ports: [8080] } },
      "egress.ports: [8080] includes 8080, the sidecar's proxy port",
    ],
    [{ egres: {} }, 'egres: unknown field: expected sidecar, vault or egress'],
    [
      { egress: { excludedCidrs: ['fd00::/8'] } },
      "egress.excludedCidrs: expected IPv4 CIDRs such as 10.96.0.0/12, got 'fd00::/8'",
    ],
    [{ egress: { excludedCidrs: '10.0.0.0/8' } }, 'egress.excludedCidrs: expected a list'],
    [{ egress: { noProxy: ['a b'] } }, 'egress.noProxy: expected a list of hosts'],
    [
      { egress: { iptables: 'nft' } },
      'egress.iptables: expected one of iptables, iptables-nft, iptables-legacy, got "nft"',
    ],
    [['sidecar'], '(top level): expected a map'],
  ])('names the bad field of %j', (document, message) => {
    let thrown: unknown;
    try {
      parseInjectionConfig(document, 'injection.yaml');
    } catch (err) {
      thrown = err;
    }
    expect(hasCode(thrown, 'INJECTION_CONFIG_INVALID')).toBe(true);
    expect((thrown as Error).message).toContain(`injection.yaml: ${message}`);
  });
});

describe('loadInjectionConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mtls-injection-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the YAML the chart renders', () => {
    const file = path.join(dir, 'injection.yaml');
    writeFileSync(
      file,
      [
        'sidecar:',
        '  image: ghcr.io/mtls-operator/mtls-sidecar:0.2.0',
        '  resources: { requests: { cpu: 50m, memory: 64Mi }, limits: { memory: 128Mi } }',
        '  checkInterval: 30s',
        'egress:',
        '  mode: proxy-env',
      ].join('\n'),
    );
    const config = loadInjectionConfig(file);
    expect(config.sidecar.image).toBe('ghcr.io/mtls-operator/mtls-sidecar:0.2.0');
    expect(config.sidecar.checkInterval).toBe('30s');
    expect(config.egress).toEqual({ ...DEFAULT_INJECTION_CONFIG.egress, mode: 'proxy-env' });
  });

  it('uses the defaults without a file, and names a file it cannot read', () => {
    expect(loadInjectionConfig('')).toEqual(DEFAULT_INJECTION_CONFIG);
    const missing = path.join(dir, 'missing.yaml');
    expect(() => loadInjectionConfig(missing)).toThrow(
      `cannot read the injection config ${missing}`,
    );
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'sidecar: [unclosed');
    expect(() => loadInjectionConfig(broken)).toThrow(/cannot read the injection config/);
  });
});
