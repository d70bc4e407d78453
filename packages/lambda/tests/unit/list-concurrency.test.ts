import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { createSqsHandler } from '../../src/sqs.js';
import { sqsEvent, unitContext } from '../helpers/events.js';
import { countingS3Client, lineSink, readCaptured } from '../helpers/capture.js';
import { memoryS3Client } from '../helpers/memory-s3.js';

const context = (remainingMs: number, requestId = 'req-list'): Context => unitContext(remainingMs, requestId);

afterEach(() => {
  vi.useRealTimers();
});

/** 600 keys under p/ with random-looking names, every third a .pdf. */
function keys(): string[] {
  return Array.from(
    { length: 600 },
    (_, i) => `p/${((i * 7919) % 6007).toString(36)}-${i}.${i % 3 === 0 ? 'pdf' : 'txt'}`,
  );
}
const pdfs = (all: readonly string[]): string[] => all.filter((key) => key.endsWith('.pdf')).sort();

/**
 * Runs the handler until the listing is complete, `budget(run)` ms (at most 1000) a run, continuing with resume_token
 * (start_after when the event does not list concurrently).
 * The margin (1000 ms, the least accepted) is capped at half the remaining time, so twice the budget remaining leaves
 * the deadline `budget(run)` ms away.
 */
async function chain(event: Record<string, unknown>, budget: (run: number) => number) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.UTC(2026, 3, 1));
  const all = keys();
  const s3 = memoryS3Client({ keys: all, onList: () => vi.setSystemTime(Date.now() + 100) });
  const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: { DEADLINE_MARGIN_MS: '1000' } });
  const bodies: Record<string, unknown>[] = [];
  let token: unknown;
  // Without list_concurrency the handler lists sequentially and answers next_start_after.
  const concurrent = 'list_concurrency' in event;
  // Each LIST moves the clock 100 ms, so 16 requests in flight spend a short budget at once; a run still hands on
  // every page answered before its deadline, so the chain stays about as short as a sequential one (the tests bound it).
  for (let run = 0; run < 100; run++) {
    const response = await handler(
      { ...event, ...(token === undefined ? {} : { [concurrent ? 'resume_token' : 'start_after']: token }) },
      context(2 * budget(run)),
    );
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    bodies.push(body);
    if (body.complete === true) break;
    token = concurrent ? body.resume_token : body.next_start_after;
  }
  const union = bodies.flatMap((body) => s3.manifestKeys(String(body.manifest_key)));
  return { all, s3, bodies, union };
}

describe('createPresignHandler: list_concurrency and LIST_CONCURRENCY', () => {
  it.each([
    [{ list_concurrency: -1 }, {}, 'list_concurrency'],
    [{ list_concurrency: 257 }, {}, 'list_concurrency'],
    [{ list_concurrency: 'many' }, {}, 'list_concurrency'],
    [{ list_concurrency: 2.5 }, {}, 'list_concurrency'],
    [{}, { LIST_CONCURRENCY: 'x' }, 'LIST_CONCURRENCY'],
    [{}, { LIST_CONCURRENCY: '0' }, 'LIST_CONCURRENCY'],
  ])('%j with %j gets 400 naming %s before any S3 call', async (event, env, field) => {
    const s3 = countingS3Client();
    const sink = lineSink();
    const handler = createPresignHandler({ s3Client: s3.client, write: sink.write, env });
    const response = await handler({ bucket: 'reports', prefix: 'p/', ...event }, context(60_000));
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as { field: string; error: string };
    expect(body.field).toBe(field);
    expect(body.error).toMatch(/integer from 1 to 256/);
    expect(s3.calls()).toBe(0);
    expect(readCaptured(sink.lines).logs[0]).toMatchObject({ event: 'invalid_request', field });
  });

  it('lists sequentially by default, as the reference does (one request at a time, start_after continuation)', async () => {
    const s3 = memoryS3Client({ keys: keys() });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const body = JSON.parse((await handler({ bucket: 'reports', prefix: 'p/', page_size: 50 }, context(900_000))).body);
    expect(body).toMatchObject({ count: 200, complete: true });
    const lists = s3.calls.filter((call) => call.name === 'ListObjectsV2');
    expect(lists).toHaveLength(12);
    expect(lists.every((call) => call.input.StartAfter === undefined)).toBe(true);
  });

  it('lists concurrently with list_concurrency, every key once', async () => {
    const s3 = memoryS3Client({ keys: keys() });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const body = JSON.parse(
      (await handler({ bucket: 'reports', prefix: 'p/', page_size: 20, list_concurrency: 8 }, context(900_000))).body,
    );
    expect(body).toMatchObject({ count: 200, complete: true });
    expect('resume_token' in body).toBe(false);
    expect([...s3.manifestKeys(body.manifest_key)].sort()).toEqual(pdfs(keys()));
    // Ranges after the first start with StartAfter: the listing was split.
    expect(
      s3.calls.filter((call) => call.name === 'ListObjectsV2' && call.input.StartAfter !== undefined).length,
    ).toBeGreaterThan(0);
  });

  it('takes LIST_CONCURRENCY from the environment, and the event field over it', async () => {
    const s3 = memoryS3Client({ keys: keys() });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: { LIST_CONCURRENCY: '8' } });
    await handler({ bucket: 'reports', prefix: 'p/', page_size: 20 }, context(900_000));
    const split = s3.calls.filter(
      (call) => call.name === 'ListObjectsV2' && call.input.StartAfter !== undefined,
    ).length;
    expect(split).toBeGreaterThan(0);
    const sequential = memoryS3Client({ keys: keys() });
    const overridden = createPresignHandler({
      s3Client: sequential.client,
      write: () => {},
      env: { LIST_CONCURRENCY: '8' },
    });
    await overridden({ bucket: 'reports', prefix: 'p/', page_size: 20, list_concurrency: 1 }, context(900_000));
    expect(
      sequential.calls.filter((call) => call.name === 'ListObjectsV2' && call.input.StartAfter !== undefined),
    ).toHaveLength(0);
  });
});

describe('createPresignHandler: resume_token', () => {
  it('chains runs cut by their deadlines at concurrency 16 into exactly-once coverage', async () => {
    const { all, bodies, union } = await chain(
      { bucket: 'reports', prefix: 'p/', page_size: 7, list_concurrency: 16 },
      (run) => 300 + 200 * (run % 3),
    );
    expect(bodies.length).toBeGreaterThanOrEqual(5);
    // The same chain listing sequentially takes 18 runs. At concurrency 16 a run hands on every page answered before
    // its deadline and loses only the requests in flight (at most one wave): the chain takes 15 runs (it took 108,
    // 22 of them presigning nothing, when a cut run dropped the pages it had listed). Allow twice the sequential count.
    const sequential = await chain({ bucket: 'reports', prefix: 'p/', page_size: 7 }, (run) => 300 + 200 * (run % 3));
    expect(sequential.bodies).toHaveLength(18);
    expect(bodies.length).toBeLessThanOrEqual(2 * sequential.bodies.length);
    for (const body of bodies.slice(0, -1)) {
      expect(body.complete).toBe(false);
      expect(body.count).toBeGreaterThan(0);
      expect(typeof body.resume_token).toBe('string');
      expect('next_start_after' in body).toBe(false);
      expect(String(body.resume_token).length).toBeLessThanOrEqual(4096);
    }
    expect('resume_token' in (bodies[bodies.length - 1] as object)).toBe(false);
    expect(union.length).toBe(pdfs(all).length);
    expect([...union].sort()).toEqual(pdfs(all));
  });

  it('continues at another concurrency than the run that made the token', async () => {
    let run = 0;
    const { all, bodies, union } = await chain(
      {
        bucket: 'reports',
        prefix: 'p/',
        page_size: 9,
        get list_concurrency() {
          return [16, 1, 4][run++ % 3];
        },
      },
      () => 400,
    );
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect([...union].sort()).toEqual(pdfs(all));
  });

  it('answers 200 with the position it started from and logs no_progress when no page arrived before the deadline', async () => {
    const first = await chain({ bucket: 'reports', prefix: 'p/', page_size: 7, list_concurrency: 16 }, () => 300);
    const token = String(first.bodies[0]?.resume_token);
    vi.useRealTimers();
    const runs: [Record<string, unknown>, string, string][] = [
      [{ list_concurrency: 16, resume_token: token }, 'resume_token', token],
      [{ list_concurrency: 1, start_after: 'p/0100.pdf' }, 'next_start_after', 'p/0100.pdf'],
    ];
    for (const [fields, field, position] of runs) {
      // Every LIST hangs until it is cancelled: the deadline (1 s in, the margin being half of 2 s) comes first.
      const s3 = memoryS3Client({ keys: keys() });
      const send = s3.client.send.bind(s3.client);
      (s3.client as { send: unknown }).send = (
        command: { constructor: { name: string } },
        options?: { abortSignal?: AbortSignal },
      ) =>
        command.constructor.name === 'ListObjectsV2Command'
          ? new Promise((_, reject) =>
              options?.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason), {
                once: true,
              }),
            )
          : send(command as never, options as never);
      const sink = lineSink();
      const handler = createPresignHandler({
        s3Client: s3.client,
        write: sink.write,
        env: { DEADLINE_MARGIN_MS: '1000' },
      });
      const response = await handler({ bucket: 'reports', prefix: 'p/', page_size: 7, ...fields }, context(2000));
      expect(response.statusCode).toBe(200);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect(body).toMatchObject({ count: 0, errors: 0, complete: false, [field]: position });
      // The manifest it names is the only object written, and it is empty: nothing is left behind unnamed.
      expect([...s3.objects.keys()]).toEqual([body.manifest_key]);
      expect(s3.manifestKeys(String(body.manifest_key))).toEqual([]);
      const logs = readCaptured(sink.lines).logs.filter((line) => line.event === 'no_progress');
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ bucket: 'reports', prefix: 'p/' });
      expect(JSON.stringify(logs[0])).not.toMatch(/X-Amz-Signature|https?:/);
    }
  });

  it('refuses malformed, foreign-bucket and foreign-prefix tokens with 400 field resume_token', async () => {
    const { bodies } = await chain({ bucket: 'reports', prefix: 'p/', page_size: 7, list_concurrency: 16 }, () => 300);
    const token = String(bodies[0]?.resume_token);
    vi.useRealTimers();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ bucket: 'reports', prefix: 'p/', resume_token: 'garbage' }, /resume_token is malformed/],
      [{ bucket: 'reports', prefix: 'p/', resume_token: 42 }, /resume_token must be a non-empty string/],
      [{ bucket: 'reports', prefix: 'p/', resume_token: `v9.${token.slice(3)}` }, /format version 9/],
      [{ bucket: 'other-bucket', prefix: 'p/', resume_token: token }, /another bucket/],
      [{ bucket: 'reports', prefix: 'q/', resume_token: token }, /another prefix/],
      [
        { bucket: 'reports', prefix: 'p/', resume_token: token, start_after: 'p/a' },
        /cannot be combined with start_after/,
      ],
      // One field serves both continuations: a token of the other kind is refused, saying which kind was expected.
      [
        { bucket: 'reports', prefix: 'p/', resume_token: 'inv1.AAAA' },
        /inventory run's token .*needs inventory_manifest.*listing returned \(v1\./,
      ],
      [
        { bucket: 'reports', prefix: 'p/', inventory_manifest: 's3://reports/inv/manifest.json', resume_token: token },
        /listing run's token \(v1\..*inventory run returned \(inv1\./,
      ],
    ];
    for (const [event, message] of cases) {
      const s3 = countingS3Client();
      const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: {} });
      const response = await handler(event, context(60_000));
      expect(response.statusCode).toBe(400);
      const body = JSON.parse(response.body) as { field: string; error: string };
      expect(body.field).toBe('resume_token');
      expect(body.error).toMatch(message);
      expect(s3.calls()).toBe(0);
    }
  });
});

describe('createSqsHandler: list_concurrency', () => {
  it('lists a message concurrently when it asks, and refuses a bad value naming the field', async () => {
    const s3 = memoryS3Client({ keys: keys() });
    const sink = lineSink();
    const handler = createSqsHandler({ s3Client: s3.client, write: sink.write, env: {} });
    const ok = await handler(
      sqsEvent([{ bucket: 'reports', prefix: 'p/', page_size: 20, list_concurrency: 8 }]),
      context(900_000),
    );
    expect(ok.batchItemFailures).toEqual([]);
    expect(
      s3.calls.filter((call) => call.name === 'ListObjectsV2' && call.input.StartAfter !== undefined).length,
    ).toBeGreaterThan(0);

    await handler(sqsEvent([{ bucket: 'reports', prefix: 'p/', list_concurrency: -1 }]), context(900_000));
    expect(readCaptured(sink.lines).logs).toContainEqual(
      expect.objectContaining({ event: 'invalid_request', field: 'list_concurrency' }),
    );
  });
});
