import { describeFlags, parseArgv, UsageError, type FlagSpec } from './argv-parser';

const specs: FlagSpec[] = [
  { long: 'namespace', short: 'n', value: 'NAME', description: 'namespace' },
  { long: 'output', short: 'o', value: 'FORMAT', description: 'output format' },
  { long: 'all-namespaces', short: 'A', description: 'every namespace' },
  { long: 'live', description: 'call the URL' },
];

function parse(...argv: string[]) {
  const parsed = parseArgv(specs, argv);
  return {
    positionals: parsed.positionals,
    values: Object.fromEntries(parsed.values),
    switches: [...parsed.switches],
  };
}

describe('parseArgv', () => {
  it('reads long and short flags with their values in every spelling kubectl users type', () => {
    expect(parse('--namespace', 'a', '-o', 'json').values).toEqual({
      namespace: 'a',
      output: 'json',
    });
    expect(parse('--namespace=a', '-ojson').values).toEqual({ namespace: 'a', output: 'json' });
    expect(parse('-n=a', '-o=yaml').values).toEqual({ namespace: 'a', output: 'yaml' });
  });

  it('takes flags anywhere among the words, switches without values', () => {
    expect(parse('-n', 'shop', 'check', '--live', 'https://x.example/', '-A')).toEqual({
      positionals: ['check', 'https://x.example/'],
      values: { namespace: 'shop' },
      switches: ['live', 'all-namespaces'],
    });
  });

  it('lets a later flag replace an earlier one, and `--` end the flags', () => {
    expect(parse('-n', 'a', '-n', 'b').values).toEqual({ namespace: 'b' });
    expect(parse('p12', 'test', '--', '-odd-name.p12').positionals).toEqual([
      'p12',
      'test',
      '-odd-name.p12',
    ]);
  });

  it('keeps a lone dash as a word: it names standard input', () => {
    expect(parse('-', '-n', 'a').positionals).toEqual(['-']);
  });

  it.each([
    [['--nmespace', 'a'], 'unknown flag --nmespace'],
    [['-x'], 'unknown flag -x'],
    [['-Ax'], 'unknown flag -Ax'],
    [['--namespace'], '--namespace needs a value (NAME)'],
    [['status', '-o'], '-o needs a value (FORMAT)'],
    [['--live=true'], "--live takes no value, got '--live=true'"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseArgv(specs, argv)).toThrow(new UsageError(message));
  });

  it('renders help lines with the descriptions aligned', () => {
    expect(describeFlags(specs.slice(0, 3)).split('\n')).toEqual([
      '  -n, --namespace NAME  namespace',
      '  -o, --output FORMAT   output format',
      '  -A, --all-namespaces  every namespace',
    ]);
  });
});
