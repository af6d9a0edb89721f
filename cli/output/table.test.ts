import { expiresIn } from './expiry';
import { renderDocument, parseOutputFormat } from './render';
import { renderTable } from './table';

const NOW = new Date('2027-06-01T12:00:00Z');

describe('renderTable', () => {
  it('pads every column but the last to its widest cell, three spaces apart', () => {
    const text = renderTable(
      ['name', 'ready', 'expires in'],
      [
        ['partner', 'True', '41d'],
        ['a-much-longer-name', 'False', 'expired'],
      ],
    );
    expect(text).toBe(
      [
        'NAME                 READY   EXPIRES IN',
        'partner              True    41d',
        'a-much-longer-name   False   expired',
        '',
      ].join('\n'),
    );
  });

  it('ends no line in spaces, even when the last cell is empty', () => {
    const text = renderTable(['name', 'reason'], [['x', '']]);
    expect(text.split('\n').every((line) => line === line.trimEnd())).toBe(true);
  });
});

describe('expiresIn', () => {
  it.each([
    ['2027-07-12T12:00:00Z', '41d'],
    ['2027-06-02T11:59:00Z', '23h'],
    ['2027-06-01T12:30:00Z', '30m'],
    ['2027-06-01T12:00:20Z', '1m'],
    ['2027-06-01T11:00:00Z', 'expired'],
    [undefined, '<none>'],
    ['not a date', '<none>'],
  ])('shows %s as %s', (notAfter, shown) => {
    expect(expiresIn(notAfter, NOW)).toBe(shown);
  });
});

describe('output formats', () => {
  it('offers only the formats a command has', () => {
    expect(parseOutputFormat(undefined, ['text', 'json'])).toBe('text');
    expect(parseOutputFormat('json', ['text', 'json'])).toBe('json');
    expect(() => parseOutputFormat('wide', ['text', 'json', 'yaml'])).toThrow(
      '-o wide is not offered here: expected one of json, yaml',
    );
  });

  it('leaves undefined fields out of JSON and YAML alike', () => {
    const document = { name: 'x', subject: undefined, problems: [] };
    expect(JSON.parse(renderDocument('json', document))).toEqual({ name: 'x', problems: [] });
    expect(renderDocument('yaml', document)).toBe('name: x\nproblems: []\n');
  });
});
