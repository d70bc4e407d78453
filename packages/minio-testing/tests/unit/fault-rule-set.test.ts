import { describe, expect, it } from 'vitest';
import { HitCounters } from '../../src/fault-proxy/hits.js';
import { FaultRuleSet } from '../../src/fault-proxy/rules.js';
import { parseS3Request } from '../../src/s3-operations.js';

const put = parseS3Request('PUT', '/bucket/a.txt', {});
const list = parseS3Request('GET', '/bucket?list-type=2', {});

describe('FaultRuleSet.plan', () => {
  it('adds delays by phase, lets the first eligible fault win, and counts only what it injected', () => {
    const rules = new FaultRuleSet([
      { fault: 'delay', delayMs: 10 },
      { fault: 'delay', delayMs: 5, phase: 'response' },
      { fault: 'slow-down', operation: 'PutObject', after: 1 },
      { fault: 'internal-error' },
      { fault: 'reset', operation: 'ListObjectsV2' },
    ]);
    const first = rules.plan(put);
    expect(first).toMatchObject({ delayBefore: 10, delayAfter: 5, injections: 3 });
    expect(first.fault?.kind).toBe('internal-error');
    const second = rules.plan(put);
    expect(second.fault?.kind).toBe('slow-down');
    expect(second.fault?.phase).toBe('request');
    expect(rules.hits()).toEqual([
      { matched: 2, injected: 2 },
      { matched: 2, injected: 2 },
      { matched: 2, injected: 1 },
      { matched: 2, injected: 1 },
      { matched: 0, injected: 0 },
    ]);
    expect(rules.plan(list).fault?.kind).toBe('internal-error');
  });

  it('stops a rule after `times`, always answers truncate after S3, and zeroes on reset', () => {
    const rules = new FaultRuleSet([{ fault: 'truncate', phase: 'request', times: 1 }]);
    expect(rules.plan(put).fault).toMatchObject({ kind: 'truncate', phase: 'response' });
    expect(rules.plan(put)).toEqual({ delayBefore: 0, delayAfter: 0, injections: 0 });
    expect(rules.hits()).toEqual([{ matched: 2, injected: 1 }]);
    rules.reset();
    expect(rules.hits()).toEqual([{ matched: 0, injected: 0 }]);
    expect(rules.plan(put).fault?.kind).toBe('truncate');
  });

  it('refuses a bad rule naming its place and field', () => {
    expect(() => new FaultRuleSet([{ fault: 'delay', delayMs: 1 }, { fault: 'delay' }])).toThrow(/rules\[1\]\.delayMs/);
  });
});

describe('HitCounters', () => {
  it('counts requests and injections per operation, snapshots copies, and resets', () => {
    const hits = new HitCounters();
    hits.received('PutObject');
    hits.received('PutObject');
    hits.injectedInto('PutObject', 2);
    hits.injectedInto('GetObject', 0);
    hits.forwarded++;
    const snapshot = hits.snapshot([{ matched: 1, injected: 1 }]);
    expect(snapshot).toEqual({
      total: 2,
      injected: 2,
      forwarded: 1,
      abandoned: 0,
      byOperation: { PutObject: 2 },
      injectedByOperation: { PutObject: 2 },
      rules: [{ matched: 1, injected: 1 }],
    });
    hits.received('GetObject');
    expect(snapshot.byOperation).toEqual({ PutObject: 2 });
    hits.reset();
    expect(hits.snapshot([])).toMatchObject({ total: 0, injected: 0, forwarded: 0, byOperation: {} });
  });
});
