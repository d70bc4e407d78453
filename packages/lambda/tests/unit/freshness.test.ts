import { describe, expect, it } from 'vitest';
import { parseIsoInstant, resolveModifiedWindow } from '../../src/freshness.js';

describe('parseIsoInstant', () => {
  it.each([
    ['2026-04-01', '2026-04-01T00:00:00.000Z'],
    ['2026-04-01T09:30Z', '2026-04-01T09:30:00.000Z'],
    ['2026-04-01T09:30:15Z', '2026-04-01T09:30:15.000Z'],
    ['2026-04-01T09:30:15.25Z', '2026-04-01T09:30:15.250Z'],
    ['2026-04-01T09:30:15.123456789Z', '2026-04-01T09:30:15.124Z'],
    ['2026-04-01T09:30:15.123000000Z', '2026-04-01T09:30:15.123Z'],
    ['2026-04-01T00:00:00.0001Z', '2026-04-01T00:00:00.001Z'],
    ['2026-04-01T23:59:59.9991Z', '2026-04-02T00:00:00.000Z'],
    ['2026-04-01T09:30:00+02:00', '2026-04-01T07:30:00.000Z'],
    ['2026-04-01T00:30:00-01:30', '2026-04-01T02:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseIsoInstant(text)?.toISOString()).toBe(iso);
  });

  it.each([
    'yesterday',
    '2026-4-1',
    '2026-04-01T09:30:00',
    '2026-04-01 09:30:00Z',
    '2025-02-29',
    '2026-13-01',
    '2026-04-31',
    '2026-04-00',
    '2026-04-01T24:00:00Z',
    '2026-04-01T09:60:00Z',
    '2026-04-01T09:30:61Z',
    '2026-04-01T09:30:00+24:00',
    '2026-04-01Z',
    '',
    ' 2026-04-01',
  ])('%j is refused', (text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
  });
});

describe('resolveModifiedWindow', () => {
  it('gives the window of an inventory run, empty when neither field is given', () => {
    expect(resolveModifiedWindow({}, true)).toEqual({});
    expect(resolveModifiedWindow({ modified_after: null, modified_before: '' }, true)).toEqual({});
    expect(
      resolveModifiedWindow({ modified_after: '2026-04-01', modified_before: '2026-04-02T12:00:00Z' }, true),
    ).toEqual({
      modifiedAfter: new Date('2026-04-01T00:00:00Z'),
      modifiedBefore: new Date('2026-04-02T12:00:00Z'),
    });
  });

  it('refuses a bad value, a listing run and an empty window, naming the field', () => {
    expect(resolveModifiedWindow({ modified_before: 5 }, true)).toMatchObject({
      statusCode: 400,
      field: 'modified_before',
      error: expect.stringMatching(/ISO-8601.*got 5/),
    });
    expect(resolveModifiedWindow({ modified_after: '2026-04-01T09:30:00' }, true)).toMatchObject({
      field: 'modified_after',
    });
    expect(resolveModifiedWindow({ modified_after: '2026-04-01' }, false)).toMatchObject({
      field: 'modified_after',
      error: expect.stringMatching(/inventory run/),
    });
    expect(resolveModifiedWindow({ modified_before: '2026-04-01' }, false)).toMatchObject({ field: 'modified_before' });
    expect(resolveModifiedWindow({ modified_after: '2026-04-02', modified_before: '2026-04-02' }, true)).toMatchObject({
      field: 'modified_before',
      error: expect.stringMatching(/later than modified_after/),
    });
  });
});
