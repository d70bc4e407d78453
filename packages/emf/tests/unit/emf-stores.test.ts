import { describe, expect, it } from 'vitest';
import { DimensionsStore, MetricsStore, PropertiesStore } from '../../src/emf-stores.js';

describe('MetricsStore', () => {
  it('collects values of one name into a series with its unit and resolution', () => {
    // Prepare
    const store = new MetricsStore();

    // Act
    store.add('Latency', 1, 'Milliseconds', 1);
    store.add('Latency', 2, 'Milliseconds', 1);
    store.add('ManifestBytes', 10);

    // Assess
    expect(store.size).toBe(2);
    expect(store.has('Latency')).toBe(true);
    expect(store.toInputs()).toEqual([
      { name: 'Latency', value: [1, 2], unit: 'Milliseconds', storageResolution: 1 },
      { name: 'ManifestBytes', value: [10], unit: 'Bytes', storageResolution: 60 },
    ]);
  });

  it('rejects a unit that conflicts with an earlier value without changing the series', () => {
    const store = new MetricsStore();
    store.add('Count', 1, 'Count');
    expect(() => store.add('Count', 2, 'Seconds')).toThrow(/unit Seconds conflicts with unit Count/);
    expect(store.toInputs()).toEqual([{ name: 'Count', value: [1], unit: 'Count', storageResolution: 60 }]);
  });

  it('is empty after clear', () => {
    const store = new MetricsStore();
    store.add('Count', 1);
    store.clear();
    expect(store.size).toBe(0);
    expect(store.toInputs()).toEqual([]);
  });
});

describe('DimensionsStore and PropertiesStore', () => {
  it('lists configured entries first, lets an added value override one in place, and counts distinct names', () => {
    // Prepare
    const store = new DimensionsStore({ Stage: 'prod', Service: 'sign' });

    // Act
    store.set('Tenant', 'a');
    store.set('Stage', 'dev');

    // Assess
    expect(Object.entries(store.toRecord())).toEqual([
      ['Stage', 'dev'],
      ['Service', 'sign'],
      ['Tenant', 'a'],
    ]);
    expect(store.size).toBe(3);
    expect(store.has('Tenant')).toBe(true);
  });

  it('clear drops added values and brings back the configured ones', () => {
    const store = new PropertiesStore({ region: 'eu-west-1' });
    store.set('region', 'us-east-1');
    store.set('requestId', 'r-1');
    store.clear();
    expect(store.toRecord()).toEqual({ region: 'eu-west-1' });
    expect(store.has('requestId')).toBe(false);
  });

  it('delete removes an added value only', () => {
    const store = new PropertiesStore({ region: 'eu-west-1' });
    store.set('requestId', 'r-1');
    store.delete('requestId');
    store.delete('region');
    expect(store.toRecord()).toEqual({ region: 'eu-west-1' });
  });
});
