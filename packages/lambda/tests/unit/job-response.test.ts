import type { PipelineResult } from '@presign-pipeline/core';
import type { EmfReporter } from '@presign-pipeline/emf';
import { describe, expect, it } from 'vitest';
import type { PresignConfig } from '../../src/config.js';
import type { StoredResult } from '../../src/idempotency.js';
import type { InventoryRequest } from '../../src/inventory.js';
import { Invocation } from '../../src/invocation.js';
import { respondTo } from '../../src/job-response.js';
import { lineSink, readCaptured } from '../helpers/capture.js';

const config = { bucket: 'reports', prefix: 'a/', expirySeconds: 900 } as PresignConfig;
const inventory = {
  manifest: { bucket: 'inv', key: 'm.json' },
  prefix: '',
  resumeToken: 'inv1.previous',
  window: {},
} as InventoryRequest;

function result(fields: Partial<PipelineResult>): PipelineResult {
  return {
    count: 2,
    errors: 0,
    pages: 1,
    complete: true,
    effectiveExpiresIn: 900,
    manifest: { key: 'manifests/m.jsonl', bytes: 10 },
    ...fields,
  } as PipelineResult;
}

function invocation() {
  const sink = lineSink();
  const added: Array<[string, number]> = [];
  const metrics = {
    addMetric: (name: string, value: number) => void added.push([name, value]),
    publish: () => undefined,
  } as unknown as EmfReporter;
  return { invocation: new Invocation('req-2', metrics, sink.write), sink, added };
}

const body = (response: { body: string }): unknown => JSON.parse(response.body);

describe('respondTo', () => {
  it('answers a complete run with the reference body, keys in order', () => {
    const { invocation: inv } = invocation();
    const response = respondTo(
      { kind: 'ran', result: result({}), key: 'manifests/m.jsonl', url: 'https://u' },
      { config, inventory: undefined },
      inv,
    );
    expect(response).toEqual({
      statusCode: 200,
      body: '{"count":2,"errors":0,"manifest_key":"manifests/m.jsonl","manifest_url":"https://u","complete":true}',
    });
  });

  it('continues an incomplete listing from its cursor, from where it started when it listed nothing, or from its resume token', () => {
    const { invocation: inv } = invocation();
    const plan = { config: { ...config, startAfter: 'a/0.pdf' }, inventory: undefined };
    const cursor = respondTo(
      { kind: 'ran', result: result({ complete: false, nextStartAfter: 'a/5.pdf' }), key: 'k', url: 'u' },
      plan,
      inv,
    );
    const nothing = respondTo({ kind: 'ran', result: result({ complete: false }), key: 'k', url: 'u' }, plan, inv);
    const token = respondTo(
      { kind: 'ran', result: result({ complete: false, resumeToken: 'v1.t' }), key: 'k', url: 'u' },
      plan,
      inv,
    );
    expect(body(cursor)).toMatchObject({ complete: false, next_start_after: 'a/5.pdf' });
    expect(body(nothing)).toMatchObject({ complete: false, next_start_after: 'a/0.pdf' });
    expect(body(token)).toEqual(expect.objectContaining({ complete: false, resume_token: 'v1.t' }));
    expect(body(token)).not.toHaveProperty('next_start_after');
  });

  it('continues an incomplete inventory run with a resume token, the request one when it read nothing', () => {
    const { invocation: inv } = invocation();
    const read = respondTo(
      { kind: 'ran', result: result({ complete: false, nextStartAfter: 'inv1.next' }), key: 'k', url: 'u' },
      { config, inventory },
      inv,
    );
    const none = respondTo(
      { kind: 'ran', result: result({ complete: false }), key: 'k', url: 'u' },
      { config, inventory },
      inv,
    );
    expect(body(read)).toEqual({
      count: 2,
      errors: 0,
      manifest_key: 'k',
      manifest_url: 'u',
      complete: false,
      resume_token: 'inv1.next',
    });
    expect(body(none)).toMatchObject({ resume_token: 'inv1.previous' });
  });

  it('logs no_progress for an inventory run cut before its first rows, not for one that moved on', () => {
    const { invocation: inv, sink } = invocation();
    const cut = (fields: Partial<PipelineResult>, plan: InventoryRequest) =>
      respondTo(
        { kind: 'ran', result: result({ count: 0, complete: false, durationMs: 5, ...fields }), key: 'k', url: 'u' },
        { config, inventory: plan },
        inv,
      );
    // Stalled: no page, the token given back is the one given (or none, on a first run).
    expect(body(cut({ pages: 0 }, inventory))).toMatchObject({ count: 0, resume_token: 'inv1.previous' });
    cut({ pages: 0 }, { ...inventory, resumeToken: undefined, prefix: 'docs/' });
    // Moved on: a page taken (even with no key kept), or a new token.
    cut({ pages: 1, nextStartAfter: 'inv1.next' }, inventory);
    cut({ pages: 0, nextStartAfter: 'inv1.next' }, inventory);
    const logs = readCaptured(sink.lines).logs.filter((line) => line.event === 'no_progress');
    expect(logs).toEqual([
      expect.objectContaining({
        request_id: 'req-2',
        bucket: 'reports',
        prefix: '',
        reason: expect.stringMatching(/inventory rows/),
      }),
      expect.objectContaining({ prefix: 'docs/' }),
    ]);
  });

  it('answers a stored result, complete when the record predates continuation', () => {
    const { invocation: inv, sink } = invocation();
    const stored: StoredResult = {
      count: 3,
      errors: 1,
      pages: 1,
      manifest_key: 'manifests/s.jsonl',
      manifest_bytes: 5,
      urls_expire_at: 0,
    };
    const response = respondTo({ kind: 'stored', stored, url: 'https://s' }, { config, inventory: undefined }, inv);
    expect(body(response)).toEqual({
      count: 3,
      errors: 1,
      manifest_key: 'manifests/s.jsonl',
      manifest_url: 'https://s',
      complete: true,
    });
    expect(sink.lines).toEqual([]);
  });

  it('logs a replay with the URL lifetime left and counts it', () => {
    const { invocation: inv, sink, added } = invocation();
    const stored: StoredResult = {
      count: 3,
      errors: 0,
      pages: 1,
      manifest_key: 'manifests/s.jsonl',
      manifest_bytes: 5,
      urls_expire_at: 0,
      complete: true,
    };
    const response = respondTo(
      { kind: 'replayed', stored, url: 'https://r', remainingSeconds: 120 },
      { config, inventory: undefined },
      inv,
    );
    expect(response.statusCode).toBe(200);
    expect(readCaptured(sink.lines).logs).toEqual([
      {
        event: 'idempotent_replay',
        request_id: 'req-2',
        count: 3,
        errors: 0,
        manifest_key: 'manifests/s.jsonl',
        url_remaining_seconds: 120,
      },
    ]);
    expect(added).toEqual([['IdempotentReplays', 1]]);
  });

  it('answers 409 to a duplicate still running, after an in_progress line', () => {
    const { invocation: inv, sink } = invocation();
    const response = respondTo({ kind: 'in-progress' }, { config, inventory: undefined }, inv);
    expect(response.statusCode).toBe(409);
    expect(body(response)).toMatchObject({ field: null, error: expect.stringMatching(/^in progress/) });
    expect(readCaptured(sink.lines).logs).toEqual([
      { event: 'in_progress', request_id: 'req-2', bucket: 'reports', prefix: 'a/' },
    ]);
  });
});
