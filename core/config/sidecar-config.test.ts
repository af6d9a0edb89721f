import { labelList, loadSidecarConfig } from './sidecar-config';

describe('loadSidecarConfig', () => {
  it('uses the documented defaults', () => {
    const invocation = loadSidecarConfig(
      ['--namespace', 'shop', '--vault-addr', 'http://127.0.0.1:8200', '--vault-role', 'shop'],
      {},
    );
    expect(invocation).toMatchObject({
      help: false,
      config: {
        mode: 'sidecar',
        listenPort: 15001,
        adminPort: 15020,
        vaultMount: 'secret',
        vaultAuthMount: 'kubernetes',
        tokenFile: '/var/run/secrets/mtls.io/serviceaccount/token',
        refreshIntervalMs: 300_000,
        checkIntervalMs: 15_000,
        unmapped: 'deny',
        rate: 10,
        burst: 10,
        upstreamTimeoutMs: 30_000,
        shutdownTimeoutMs: 20_000,
      },
    });
  });

  it('listens on loopback in sidecar mode and on every interface in gateway mode', () => {
    const vault = ['--namespace', 'shop', '--vault-addr', 'http://v:8200', '--vault-role', 'r'];
    const address = (...flags: string[]): unknown => {
      const invocation = loadSidecarConfig([...vault, ...flags], {});
      return invocation.help ? undefined : invocation.config.listenAddress;
    };

    expect(address()).toBe('127.0.0.1');
    expect(address('--mode', 'gateway')).toBe('0.0.0.0');
    expect(address('--listen-address', '::')).toBe('::');
    expect(address('--mode', 'gateway', '--listen-address', '10.0.0.7')).toBe('10.0.0.7');
    expect(() => address('--listen-address', 'localhost')).toThrow(
      "--listen-address is invalid: expected an IP address such as 127.0.0.1, got 'localhost'",
    );
  });

  it('reads pod labels and the environment', () => {
    const invocation = loadSidecarConfig(['--pod-labels', 'app=shop, tier=web'], {
      POD_NAMESPACE: 'shop',
      MTLS_CONFIG_FILE: 'sidecar.yaml',
      MTLS_UNMAPPED: 'passthrough',
    });
    expect(invocation).toMatchObject({
      config: {
        podLabels: { app: 'shop', tier: 'web' },
        configFile: 'sidecar.yaml',
        unmapped: 'passthrough',
      },
    });
  });

  it('needs a certificate source and a way to log in', () => {
    expect(() => loadSidecarConfig(['--namespace', 'shop'], {})).toThrow(
      /--vault-addr or --config-file/,
    );
    expect(() =>
      loadSidecarConfig(['--namespace', 'shop', '--vault-addr', 'http://v:8200'], {}),
    ).toThrow(/--vault-role or --vault-token/);
    expect(() => labelList('app')).toThrow(/expected labels such as app=shop/);
    expect(() =>
      loadSidecarConfig(['--namespace', 'shop', '--config-file', 'sidecar.yaml'], {
        VAULT_ADDR: 'http://v:8200',
      }),
    ).toThrow(
      '--vault-addr (VAULT_ADDR) and --config-file (MTLS_CONFIG_FILE) name two certificate ' +
        'sources: give one of them',
    );
  });

  it('reads the gateway options and keeps the gateway on Vault', () => {
    const gateway = ['--mode', 'gateway', '--namespace', 'mtls-system', '--vault-addr', 'http://v'];
    const invocation = loadSidecarConfig([...gateway, '--vault-role', 'gw'], {
      MTLS_API_AUTH: 'check=bearer+oauth1',
      MTLS_AUTH_CACHE_TTL: '30s',
    });
    expect(invocation.help).toBe(false);
    const config = !invocation.help ? invocation.config : undefined;
    expect(config?.apiAuth.schemesFor('check')).toEqual(['bearer', 'oauth1']);
    expect(config?.apiAuth.schemesFor('certificates')).toEqual(['bearer']);
    expect(config?.authCacheTtlMs).toBe(30_000);
    expect(config?.kubeconfig).toBe('');

    expect(() => loadSidecarConfig([...gateway, '--config-file', 'x.yaml'], {})).toThrow(
      /--mode gateway reads every namespace from Vault/,
    );
    expect(() => loadSidecarConfig([...gateway, '--api-auth', 'p12=none'], {})).toThrow(
      /--api-auth is invalid: unknown scheme 'none'/,
    );
  });

  it('counts rates in memory unless told to share them through Redis', () => {
    const file = ['--namespace', 'shop', '--config-file', 'sidecar.yaml'];
    expect(loadSidecarConfig(file, {})).toMatchObject({
      config: { rateLimitStore: 'memory', redisUrl: '', rateLimitFailMode: 'open' },
    });
    expect(
      loadSidecarConfig([...file, '--rate-limit-store', 'redis'], {
        MTLS_REDIS_URL: 'redis://redis.mtls-system:6379',
        MTLS_RATE_LIMIT_FAIL_MODE: 'closed',
      }),
    ).toMatchObject({
      config: {
        rateLimitStore: 'redis',
        redisUrl: 'redis://redis.mtls-system:6379',
        rateLimitFailMode: 'closed',
      },
    });

    expect(() => loadSidecarConfig([...file, '--rate-limit-store', 'redis'], {})).toThrow(
      /--redis-url is required with --rate-limit-store redis/,
    );
    expect(() => loadSidecarConfig([...file, '--redis-url', 'http://r:6379'], {})).toThrow(
      /--redis-url is invalid: expected a redis:\/\/ or rediss:\/\/ URL/,
    );
  });

  it('reads the proxies the gateway trusts for X-Forwarded-For as CIDRs', () => {
    const file = ['--namespace', 'shop', '--config-file', 'sidecar.yaml'];
    expect(loadSidecarConfig(file, {})).toMatchObject({ config: { trustedProxies: [] } });
    expect(
      loadSidecarConfig([...file, '--trusted-proxies', '10.0.0.0/8, 192.0.2.7,fd00::/8'], {}),
    ).toMatchObject({ config: { trustedProxies: ['10.0.0.0/8', '192.0.2.7/32', 'fd00::/8'] } });

    for (const wrong of ['10.0.0.0/33', 'ingress.local', '10.0.0.0/', '10.0.0.0/8/1']) {
      expect(() => loadSidecarConfig([...file, '--trusted-proxies', wrong], {})).toThrow(
        `--trusted-proxies is invalid: expected CIDRs such as 10.0.0.0/8,fd00::/8, got '${wrong}'`,
      );
    }
  });

  it('reads the origin OAuth 1.0 clients sign behind a TLS-terminating ingress', () => {
    const file = ['--namespace', 'shop', '--config-file', 'sidecar.yaml'];
    expect(loadSidecarConfig(file, {})).toMatchObject({ config: { oauthExternalUrl: '' } });
    expect(
      loadSidecarConfig(file, { MTLS_OAUTH_EXTERNAL_URL: 'https://GW.example:443/' }),
    ).toMatchObject({ config: { oauthExternalUrl: 'https://gw.example' } });

    const wrongs: [string, string][] = [
      ['gw.example', 'expected an origin such as https://gw.example'],
      ['ftp://gw.example', 'expected an http or https URL, got the scheme ftp:'],
      ['https://gw.example/api', 'expected an origin without path, query or fragment'],
      ['https://gw.example/?x=1', 'expected an origin without path, query or fragment'],
      ['https://u:p@gw.example', 'expected an origin without user or password'],
    ];
    for (const [wrong, message] of wrongs) {
      expect(() => loadSidecarConfig([...file, '--oauth-external-url', wrong], {})).toThrow(
        `--oauth-external-url is invalid: ${message}`,
      );
    }
  });

  it('refuses a check interval of zero, which would read Vault without pause', () => {
    const file = ['--namespace', 'shop', '--config-file', 'sidecar.yaml'];
    expect(loadSidecarConfig([...file, '--check-interval', '250ms'], {})).toMatchObject({
      config: { checkIntervalMs: 250 },
    });
    for (const zero of ['0s', '0ms', '0.0m']) {
      expect(() => loadSidecarConfig([...file, '--check-interval', zero], {})).toThrow(
        `--check-interval is invalid: expected a duration longer than zero, got '${zero}'`,
      );
    }
  });

  it('refuses an upstream timeout, a refresh interval or a shutdown timeout of zero', () => {
    const file = ['--namespace', 'shop', '--config-file', 'sidecar.yaml'];
    for (const flag of ['--upstream-timeout', '--refresh-interval', '--shutdown-timeout']) {
      expect(() => loadSidecarConfig([...file, flag, '0s'], {})).toThrow(
        `${flag} is invalid: expected a duration longer than zero, got '0s'`,
      );
    }
    expect(() => loadSidecarConfig(file, { MTLS_UPSTREAM_TIMEOUT: '0ms' })).toThrow(
      "MTLS_UPSTREAM_TIMEOUT is invalid: expected a duration longer than zero, got '0ms'",
    );
    expect(loadSidecarConfig([...file, '--upstream-timeout', '2s'], {})).toMatchObject({
      config: { upstreamTimeoutMs: 2000 },
    });
  });

  it('prints help without needing other options', () => {
    const invocation = loadSidecarConfig(['--help'], {});
    expect(invocation.help && invocation.text).toContain(
      '--unmapped (env MTLS_UNMAPPED) [default deny]',
    );
    expect(invocation.help && invocation.text).toContain(
      '[default check=oauth1,certificates=bearer,mappings=bearer,p12=bearer,forward=bearer+oauth1]',
    );
    // Durations and labels as a user would type them back, not as the numbers they are read into.
    expect(invocation.help && invocation.text).toContain(
      '--refresh-interval (env MTLS_REFRESH_INTERVAL) [default 5m]',
    );
    expect(invocation.help && invocation.text).toContain(
      '--pod-labels (env MTLS_POD_LABELS) [optional]',
    );
  });
});
