import { ConfigError, describeOptions, parseOptions } from './options';
import { durationMs, formatDuration, integer, oneOf, text } from './parsers';

const table = {
  port: { flag: 'port', env: 'PORT', description: 'port to listen on', parse: integer(1, 65535) },
  interval: {
    flag: 'interval',
    description: 'how often to check',
    parse: durationMs,
    default: 15_000,
    show: formatDuration,
  },
  timeout: { flag: 'timeout', description: 'how long to wait', parse: durationMs, default: 1500 },
  address: { flag: 'address', description: 'where to listen', parse: text, default: '' },
  mode: {
    flag: 'mode',
    description: 'mode',
    parse: oneOf('sidecar', 'gateway'),
    default: 'sidecar',
  },
};

describe('parseOptions', () => {
  it('takes flags before the environment, and defaults last', () => {
    const parsed = parseOptions(table, ['--port', '8080', '--mode=gateway'], { PORT: '9090' });
    expect(parsed).toEqual({
      port: 8080,
      interval: 15_000,
      timeout: 1500,
      address: '',
      mode: 'gateway',
    });
    expect(parseOptions(table, [], { PORT: '9090' }).port).toBe(9090);
  });

  it('names the flag and the problem of a bad value', () => {
    expect(() => parseOptions(table, ['--interval', '5 minutes'], { PORT: '1' })).toThrow(
      "--interval is invalid: expected a duration such as 15s, 5m or 250ms, got '5 minutes'",
    );
    expect(() => parseOptions(table, [], { PORT: '70000' })).toThrow(
      "PORT is invalid: expected a whole number from 1 to 65535, got '70000'",
    );
  });

  it('refuses unknown flags, missing values and missing required options', () => {
    expect(() => parseOptions(table, ['--prot', '1'], {})).toThrow('unknown flag --prot');
    expect(() => parseOptions(table, ['--port'], {})).toThrow('--port needs a value');
    expect(() => parseOptions(table, [], {})).toThrow(ConfigError);
    expect(() => parseOptions(table, [], {})).toThrow('--port or PORT is required');
  });

  it('describes every option for --help, defaults as they would be typed', () => {
    const help = describeOptions(table);
    expect(help).toContain('--port (env PORT) [required]\n      port to listen on');
    expect(help).toContain('--interval [default 15s]');
    expect(help).toContain('--timeout [default 1500]');
    expect(help).toContain('--address [optional]');
    expect(help).toContain('--mode [default sidecar]');
  });
});

describe('formatDuration', () => {
  it('writes the largest unit that keeps the number whole, which durationMs reads back', () => {
    const written = [300_000, 15_000, 1500, 250, 7_200_000, 0].map(formatDuration);
    expect(written).toEqual(['5m', '15s', '1500ms', '250ms', '2h', '0ms']);
    expect(written.map(durationMs)).toEqual([300_000, 15_000, 1500, 250, 7_200_000, 0]);
  });
});
