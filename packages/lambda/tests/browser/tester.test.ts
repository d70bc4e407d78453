/// <reference lib="dom" />
// The page code below (waitForFunction, evaluate) runs in the browser.
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as baseline from '../../../../examples/baseline/src/handler.js';
import { asHandlerModule, documentedSide, type TesterSide } from '../../src/tester/handler-module.js';
import { startTester, type RunningTester } from '../../src/tester/server.js';
import * as long from './long-handler.js';

// A real Chromium (Debian's package, installed by .ci/run when missing) driven by playwright-core, which never
// downloads a browser of its own; a real S3 API over HTTP behind the handlers.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const s3 = useS3Endpoint();
const bucket = `tester-${randomBytes(4).toString('hex')}`;
const prefix = '2026/04/';
const PDFS = 40;
const bodyOf = (key: string): string => `%PDF-1.4 body of ${key}\n`;
// The endpoint does not check signatures, so a secret nobody could guess shows whether one leaks.
const secret = `secret-${randomBytes(12).toString('hex')}`;

const baselineSide: TesterSide = {
  label: 'baseline (sign_pdfs)',
  functionName: 'sign_pdfs',
  module: asHandlerModule('baseline', baseline),
};
const longSide: TesterSide = {
  label: 'long synthetic run',
  functionName: 'long',
  module: asHandlerModule('long', long),
};

/** A handler that prints lines which are not JSON objects, as `console.log({ ... })` or a cut-off line would. */
const chattySide: TesterSide = {
  label: 'chatty',
  functionName: 'chatty',
  module: {
    handler: async () => {
      process.stdout.write("{ step: 'listed', keys: 3 }\n");
      process.stdout.write('{"event":"truncated"\n');
      process.stdout.write('{"event":"ok"}\n');
      return { statusCode: 200, body: '{}' };
    },
  },
};

let browser: Browser;
let pair: RunningTester;
let single: RunningTester;
let chatty: RunningTester;

beforeAll(async () => {
  // The handlers read the endpoint and credentials from the environment, as under `npm run tester`.
  Object.assign(process.env, {
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
  });
  await s3.createBucket(bucket);
  const pdfs = Array.from({ length: PDFS }, (_, i) => `${prefix}report-${String(i).padStart(3, '0')}.pdf`);
  await s3.seed(
    bucket,
    [...pdfs, `${prefix}notes-1.txt`, `${prefix}notes-2.txt`, '2026/03/old.pdf'].map((key) => ({
      key,
      body: bodyOf(key),
    })),
  );
  pair = await startTester({ sides: [baselineSide, documentedSide()], bucket, prefix });
  single = await startTester({ sides: [longSide] });
  chatty = await startTester({ sides: [chattySide] });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
  await single?.close();
  await chatty?.close();
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

async function setEvent(page: Page, event: unknown): Promise<void> {
  await page.fill('#event', JSON.stringify(event, null, 2));
}

async function runAndWait(page: Page, target: 'both' | '0' | '1'): Promise<void> {
  await page.check(`input[name="target"][value="${target}"]`);
  await page.click('#invoke');
  await page.waitForFunction(
    () => /done|cancelled/.test(document.querySelector('#progress')?.textContent ?? ''),
    undefined,
    { timeout: 60_000 },
  );
}

const side = (page: Page, index: number) => page.locator(`.side[data-side="${index}"]`);
const metricOf = (page: Page, index: number, name: string) =>
  side(page, index).locator(`tr[data-metric="${name}"] td.value`).textContent();

/** A raw request with the headers a browser would not let a page set (Host). */
function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the tester page in Chromium', () => {
  it('invoke shows Result, Structured logs and EMF metrics with the handler’s real counts, and a manifest preview whose links fetch the objects', async () => {
    // Prepare: pages of 10 keys, so 43 keys take 5 pages.
    const page = await open(pair.url);
    await setEvent(page, { bucket, prefix, page_size: 10 });
    // Act: the documented handler alone.
    await runAndWait(page, '1');
    // Assess: the Result panel.
    const documented = side(page, 1);
    expect(await documented.locator('.status-code').textContent()).toBe('200');
    const body = JSON.parse((await documented.locator('.result .body').textContent()) ?? '') as {
      count: number;
      errors: number;
      manifest_key: string;
    };
    expect(body).toMatchObject({ count: PDFS, errors: 0, complete: true });
    // Structured logs: the complete line with the run's counts.
    const complete = documented.locator('.logs tr[data-event="complete"]');
    await expect.poll(() => complete.count()).toBe(1);
    expect(await complete.textContent()).toContain(`count=${PDFS}`);
    expect(await complete.textContent()).toContain('pages=5');
    // EMF metrics: namespace, dimensions, each metric with its unit and value.
    expect(await documented.locator('.metrics .namespace').textContent()).toBe('eth/sign_pdfs_optimized');
    expect(await documented.locator('.metrics .dimensions').textContent()).toBe('Function=sign_pdfs_optimized');
    expect(await metricOf(page, 1, 'PDFsProcessed')).toBe(String(PDFS));
    expect(await metricOf(page, 1, 'S3ListPages')).toBe('5');
    expect(await documented.locator('tr[data-metric="ManifestBytes"] td').nth(1).textContent()).toBe('Bytes');
    // The manifest's real size, as stored.
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: body.manifest_key }));
    const manifest = (await stored.Body?.transformToString('utf8')) ?? '';
    expect(await metricOf(page, 1, 'ManifestBytes')).toBe(String(Buffer.byteLength(manifest)));
    expect(await documented.locator('.counts').textContent()).toContain(
      `presigned ${PDFS} · bytes ${Buffer.byteLength(manifest)}`,
    );
    // Manifest preview: the first ten lines; a link fetches its object from the local endpoint.
    const links = documented.locator('.manifest-lines a');
    expect(await links.count()).toBe(10);
    const first = links.first();
    const key = (await first.textContent()) ?? '';
    const fetched = await fetch((await first.getAttribute('href')) ?? '');
    expect(await fetched.text()).toBe(bodyOf(key));
    await page.close();
  });

  it('catches invalid JSON while typing and never sends it', async () => {
    const page = await open(pair.url);
    const posts: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST') posts.push(req.url());
    });
    const before = (
      JSON.parse((await rawRequest(pair.port, '/api/runs', { Host: `127.0.0.1:${pair.port}` })).body) as unknown[]
    ).length;
    // Act: a half-written event, then the Invoke shortcut and a click on the disabled button.
    await page.fill('#event', `{"bucket": "${bucket}", `);
    await page.keyboard.press('Control+Enter');
    await page.click('#invoke', { force: true });
    // Assess
    expect(await page.locator('#event-error').textContent()).toMatch(/^Invalid JSON/);
    expect(await page.locator('#event').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#invoke').isDisabled()).toBe(true);
    expect(posts).toEqual([]);
    const after = (
      JSON.parse((await rawRequest(pair.port, '/api/runs', { Host: `127.0.0.1:${pair.port}` })).body) as unknown[]
    ).length;
    expect(after).toBe(before);
    // Fixing it re-enables Invoke.
    await page.fill('#event', JSON.stringify({ bucket }));
    expect(await page.locator('#invoke').isDisabled()).toBe(false);
    await page.close();
  });

  it('shows a 400 event’s error body and its invalid_request log line (invoked from the keyboard)', async () => {
    const page = await open(pair.url);
    await page.check('input[name="target"][value="1"]');
    await setEvent(page, { bucket, prefix, expiry_seconds: 604801 });
    await page.focus('#event');
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction(() => /done/.test(document.querySelector('#progress')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    });
    const documented = side(page, 1);
    expect(await documented.locator('.status-code').textContent()).toBe('400');
    const body = JSON.parse((await documented.locator('.result .body').textContent()) ?? '') as {
      error: string;
      field: string;
    };
    expect(body.field).toBe('expiry_seconds');
    expect(body.error).toContain('expiry_seconds');
    const line = documented.locator('.logs tr[data-event="invalid_request"]');
    expect(await line.count()).toBe(1);
    expect(await line.textContent()).toContain('field=expiry_seconds');
    expect(await documented.locator('.manifest').textContent()).toContain('(no manifest)');
    await page.close();
  });

  it('runs both handlers side by side and highlights what differs, and only that', async () => {
    const page = await open(pair.url);
    await setEvent(page, { bucket, prefix, page_size: 10 });
    await runAndWait(page, 'both');
    // Both sides, each with its own label and real counts.
    expect(await side(page, 0).locator('.side-label').textContent()).toBe('baseline (sign_pdfs)');
    expect(await side(page, 1).locator('.side-label').textContent()).toBe('documented (sign_pdfs_optimized)');
    for (const index of [0, 1]) {
      expect(await side(page, index).locator('.status-code').textContent()).toBe('200');
      expect(await metricOf(page, index, 'PDFsProcessed')).toBe(String(PDFS));
      expect(await metricOf(page, index, 'S3ListPages')).toBe('5');
    }
    // The differences table: duration and the EMF namespace always differ; each listed metric really differs.
    const differing = await page
      .locator('#differences tr[data-diff]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-diff')));
    expect(differing).toContain('duration');
    expect(differing).toContain('namespace');
    expect(differing).not.toContain('count');
    expect(differing).not.toContain('metric:PDFsProcessed');
    for (const name of ['PDFsProcessed', 'S3ListPages', 'PresignCount', 'ManifestBytes', 'ResponseBytes']) {
      const [a, b] = [await metricOf(page, 0, name), await metricOf(page, 1, name)];
      expect(differing.includes(`metric:${name}`)).toBe(a !== b);
      const highlighted = await side(page, 0)
        .locator(`tr[data-metric="${name}"] td.value`)
        .evaluate((cell) => cell.classList.contains('diff'));
      expect(highlighted).toBe(a !== b);
    }
    expect(
      await side(page, 0)
        .locator('.duration')
        .evaluate((cell) => cell.classList.contains('diff')),
    ).toBe(true);
    // The run is in the history and reopens with its event.
    await page.fill('#event', '{}');
    const entries = page.locator('#history-list button[data-run]');
    const last = entries.last();
    await last.click();
    await page.waitForFunction(() => document.querySelector('#progress')?.textContent?.startsWith('showing run'));
    expect(JSON.parse(await page.inputValue('#event'))).toEqual({ bucket, prefix, page_size: 10 });
    expect(await side(page, 1).locator('.status-code').textContent()).toBe('200');
    expect(await page.locator('#differences tr[data-diff="duration"]').count()).toBe(1);
    await page.close();
  });

  it('cancel stops a long run and leaves no open multipart upload', async () => {
    const page = await open(single.url);
    await setEvent(page, { bucket });
    await page.click('#invoke');
    // Wait until the manifest's multipart upload is really open on the endpoint, so the check below can fail.
    const openUploads = async (): Promise<number> =>
      (await s3.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
    await expect.poll(openUploads, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    // Live progress reached the page.
    await page.waitForFunction(
      () => /presigned [1-9]/.test(document.querySelector('.side .running')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    // Act
    await page.keyboard.press('Escape');
    await page.waitForFunction(
      () => /cancelled/.test(document.querySelector('#progress')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    // Assess: the run stopped long before its end, says so, and left nothing behind.
    const result = side(page, 0).locator('.result');
    expect(await result.textContent()).toContain('Cancelled');
    expect(await result.textContent()).toContain('AbortError');
    const presigned = Number(/presigned (\d+)/.exec((await side(page, 0).locator('.counts').textContent()) ?? '')?.[1]);
    expect(presigned).toBeGreaterThan(0);
    expect(presigned).toBeLessThan(long.TOTAL_KEYS);
    expect(await openUploads()).toBe(0);
    const manifests = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    const before = manifests.KeyCount ?? 0;
    // Only the manifests of the earlier runs (each named in a 200 body) are there; none is the cancelled run's.
    expect(before).toBeLessThanOrEqual(3);
    expect(await page.locator('#history-list li').last().textContent()).toContain('(cancelled)');
    await page.close();
  });
});

describe('the tester page shows everything a handler printed', () => {
  it('lists lines that start with a brace but are not JSON objects under Other output', async () => {
    const page = await open(chatty.url);
    await setEvent(page, {});
    await runAndWait(page, '0');
    const other = side(page, 0).locator('.other-output');
    expect(await other.locator('h3').textContent()).toBe('Other output (2)');
    expect(await other.locator('pre').textContent()).toBe('{ step: \'listed\', keys: 3 }\n{"event":"truncated"');
    await page.close();
  });
});

describe('the tester refuses requests that are not its own', () => {
  it('refuses a foreign Host header (DNS rebinding) with 403', async () => {
    const own = await rawRequest(pair.port, '/api/config', { Host: `127.0.0.1:${pair.port}` });
    expect(own.status).toBe(200);
    const rebound = await rawRequest(pair.port, '/api/config', { Host: `attacker.example:${pair.port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('Host');
    expect(rebound.body).not.toContain('eventFields');
    const otherPort = await rawRequest(pair.port, '/', { Host: '127.0.0.1:1' });
    expect(otherPort.status).toBe(403);
  });

  it('refuses a run posted from another origin, and starts nothing', async () => {
    const host = `127.0.0.1:${pair.port}`;
    const before = (JSON.parse((await rawRequest(pair.port, '/api/runs', { Host: host })).body) as unknown[]).length;
    const event = JSON.stringify({ event: { bucket, prefix } });
    const crossSite = await rawRequest(
      pair.port,
      '/api/runs',
      { Host: host, Origin: 'http://attacker.example', 'Content-Type': 'application/json' },
      'POST',
      event,
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toContain('Origin');
    // A form post (no JSON content type) from the page's own origin is refused too.
    const form = await rawRequest(
      pair.port,
      '/api/runs',
      { Host: host, Origin: `http://${host}`, 'Content-Type': 'text/plain' },
      'POST',
      event,
    );
    expect(form.status).toBe(415);
    const after = (JSON.parse((await rawRequest(pair.port, '/api/runs', { Host: host })).body) as unknown[]).length;
    expect(after).toBe(before);
  });

  it('never sends credentials to the page, neither in its configuration nor in a run’s record', async () => {
    const host = { Host: `127.0.0.1:${pair.port}` };
    const config = await rawRequest(pair.port, '/api/config', host);
    expect(config.status).toBe(200);
    expect(config.body).not.toContain(secret);
    expect(config.body).not.toContain('AWS_SECRET_ACCESS_KEY');
    const run = await rawRequest(pair.port, '/api/runs/1', host);
    expect(run.status).toBe(200);
    expect(run.body).toContain('"panels"');
    expect(run.body).not.toContain(secret);
  });
});
