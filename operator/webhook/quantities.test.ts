import { durationValueMs, portList, positiveValue, quantityValue } from './quantities';

describe('quantityValue', () => {
  it('reads the Kubernetes quantity forms', () => {
    expect(quantityValue('50m')).toBeCloseTo(0.05);
    expect(quantityValue('1')).toBe(1);
    expect(quantityValue('0.5')).toBe(0.5);
    expect(quantityValue('.5')).toBe(0.5);
    expect(quantityValue('64Mi')).toBe(64 * 2 ** 20);
    expect(quantityValue('1Gi')).toBe(2 ** 30);
    expect(quantityValue('128M')).toBe(128e6);
    expect(quantityValue('1e3')).toBe(1000);
    expect(quantityValue('2E-3')).toBeCloseTo(0.002);
  });

  it('refuses what the apiserver would refuse, and negative amounts', () => {
    for (const text of ['', 'x', '64MB', '1.5.2', '-1', 'Mi', '10 m', '1mi', '50 m']) {
      expect(quantityValue(text)).toBeUndefined();
    }
  });
});

describe('durationValueMs', () => {
  it('reads the durations the sidecar accepts', () => {
    expect(durationValueMs('10s')).toBe(10_000);
    expect(durationValueMs('5m')).toBe(300_000);
    expect(durationValueMs('250ms')).toBe(250);
    expect(durationValueMs('1.5h')).toBe(5_400_000);
  });

  it('refuses other forms and zero', () => {
    for (const text of ['10', '5 minutes', 's', '0s', '-1s', '1d']) {
      expect(durationValueMs(text)).toBeUndefined();
    }
  });
});

describe('portList', () => {
  it('reads a comma list of ports, without repeats', () => {
    expect(portList('80')).toEqual([80]);
    expect(portList('80, 8080,80')).toEqual([80, 8080]);
  });

  it('refuses anything that is not a port', () => {
    for (const text of ['', '80,x', '0', '65536', '80,', '8.5', '-80']) {
      expect(portList(text)).toBeUndefined();
    }
  });
});

describe('positiveValue', () => {
  it('reads positive numbers only', () => {
    expect(positiveValue('10')).toBe(10);
    expect(positiveValue('2.5')).toBe(2.5);
    for (const text of ['0', '-1', 'ten', '', '1e3']) expect(positiveValue(text)).toBeUndefined();
  });
});
