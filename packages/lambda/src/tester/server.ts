import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context as HonoContext, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import { loadAssets } from './assets.js';
import { ENV_VARIABLES, EVENT_FIELDS, exampleEvents, isOverridable } from './catalog.js';
import { loopbackGuard, type OriginGuard } from './guard.js';
import type { TesterSide } from './handler-module.js';
import { maskPresignedUrls } from '../runner.js';
import { invokeSide } from './invoke.js';
import { manifestLocation, manifestPreviewer } from './manifest-preview.js';
import { RunHistory, type LiveRun, type RunUpdate } from './runs.js';

/** Options of {@link startTester}. */
export interface TesterOptions {
  /** One or two sides; with two, the page runs the event through both, side by side. */
  readonly sides: readonly TesterSide[];
  /** Port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** The stub context's time budget per invocation. Default 900000 (Lambda's longest). */
  readonly timeoutMs?: number;
  /** Bucket and prefix the example events use. Default `BUCKET_NAME`/`PREFIX` or the handler's defaults. */
  readonly bucket?: string;
  /** See `bucket`. */
  readonly prefix?: string;
  /** Manifest lines in the preview. Default 10. */
  readonly previewLines?: number;
  /** Where the server's own lines go (never a URL of the manifest, never a secret). Default: none. */
  readonly log?: (line: string) => void;
}

/** A tester that is listening. */
export interface RunningTester {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** The port. */
  readonly port: number;
  /**
   * Cancels a run in progress as the page's Cancel does and waits for it to end (at most `graceMs`, default 5000,
   * for its handler to clean up), then stops listening and drops open connections.
   */
  close(graceMs?: number): Promise<void>;
}

type Body = { event?: unknown; env?: unknown; sides?: unknown };

/** Checks a run request; returns the problem naming the bad field, or the run's parts. */
function parseRunRequest(
  body: Body,
  sideCount: number,
): { error: string; field: string } | { event: unknown; overrides: Record<string, string>; sides: number[] } {
  if (body === null || typeof body !== 'object' || !('event' in body))
    return { field: 'event', error: 'the request must be {"event": …}' };
  const overrides: Record<string, string> = {};
  if (body.env !== undefined) {
    if (body.env === null || typeof body.env !== 'object' || Array.isArray(body.env))
      return { field: 'env', error: 'env must be an object of strings' };
    for (const [name, value] of Object.entries(body.env as Record<string, unknown>)) {
      if (!isOverridable(name))
        return { field: `env.${name}`, error: `env.${name} is not a variable the tester lets a run override` };
      if (typeof value !== 'string') return { field: `env.${name}`, error: `env.${name} must be a string` };
      if (value !== '') overrides[name] = value;
    }
  }
  const all = Array.from({ length: sideCount }, (_, i) => i);
  const sides = body.sides === undefined ? all : body.sides;
  if (
    !Array.isArray(sides) ||
    sides.length === 0 ||
    !sides.every((s) => Number.isInteger(s) && s >= 0 && s < sideCount) ||
    new Set(sides).size !== sides.length
  ) {
    return { field: 'sides', error: `sides must list distinct side indexes below ${sideCount}` };
  }
  return { event: body.event, overrides, sides: sides as number[] };
}

/** Runs one side and records its panels, with the manifest preview when it made a manifest. */
async function executeSide(
  run: LiveRun,
  index: number,
  options: TesterOptions,
  preview: ReturnType<typeof manifestPreviewer>,
): Promise<void> {
  const { record } = run;
  const side = options.sides[index] as TesterSide;
  const started = Date.now();
  const outcome = await invokeSide(side, {
    event: record.event,
    overrides: record.overrides,
    timeoutMs: options.timeoutMs ?? 900_000,
    signal: run.controller.signal,
    onProgress: (progress) => run.progress(index, progress, Date.now() - started),
  });
  const env = { ...process.env, ...record.overrides };
  const location = outcome.statusCode === 200 ? manifestLocation(record.event, env, outcome.body) : undefined;
  const manifest = location === undefined ? undefined : await preview(location, env, options.previewLines ?? 10);
  run.sideDone(index, { ...outcome, ...(manifest !== undefined ? { manifest } : {}) });
  options.log?.(`run ${record.id}: ${side.label}: ${outcome.statusCode ?? outcome.status} in ${outcome.durationMs} ms`);
}

/**
 * Runs each chosen side in turn (one at a time: each captures the process's output), then the manifest previews.
 * Never rejects: whatever goes wrong is logged, and the run is always marked done.
 */
async function execute(
  run: LiveRun,
  options: TesterOptions,
  preview: ReturnType<typeof manifestPreviewer>,
): Promise<void> {
  try {
    for (const index of run.record.sides) {
      await executeSide(run, index, options, preview);
      if (run.controller.signal.aborted) break;
    }
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    options.log?.(`run ${run.record.id}: stopped by ${name}: ${maskPresignedUrls(errorMessage(error))}`);
  } finally {
    run.finish();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An update as server-sent-event data; one that JSON cannot hold becomes an `error` event saying so. */
function sseMessage(update: RunUpdate): { event: string; data: string } {
  try {
    return { event: update.type, data: JSON.stringify(update) };
  } catch (error) {
    return {
      event: 'error',
      data: JSON.stringify({ type: 'error', error: `unserialisable ${update.type} update: ${errorMessage(error)}` }),
    };
  }
}

function sseOf(c: HonoContext, run: LiveRun) {
  return streamSSE(c, async (stream) => {
    const send = (update: RunUpdate): Promise<void> => stream.writeSSE(sseMessage(update)).catch(() => undefined);
    for (const [i, panels] of run.record.panels.entries())
      await send({ type: 'side', side: run.record.sides[i] as number, panels });
    if (run.record.state === 'done') {
      await send({ type: 'done', run: run.record });
      return;
    }
    await new Promise<void>((resolve) => {
      const stop = run.listen((update) => {
        const sent = send(update);
        // The stream ends only once the last event is written.
        if (update.type === 'done') void sent.then(resolve);
      });
      stream.onAbort(() => {
        stop();
        resolve();
      });
    });
  });
}

/** A run's record; 500 naming the problem, never a stack, if it cannot be sent as JSON. */
function recordAnswer(c: HonoContext, run: LiveRun) {
  try {
    return c.body(JSON.stringify(run.record), 200, { 'Content-Type': 'application/json' });
  } catch (error) {
    return c.json({ error: `run ${run.record.id} cannot be sent as JSON: ${errorMessage(error)}` }, 500);
  }
}

/** Reads the first lines of a run's manifest for the page. */
type ManifestPreviewer = ReturnType<typeof manifestPreviewer>;

/** Builds the tester's routes. */
export function testerApp(
  options: TesterOptions,
  guard: () => OriginGuard,
  history: RunHistory = new RunHistory(),
): Hono {
  const assets = loadAssets();
  const preview = manifestPreviewer();
  const app = new Hono();
  app.use('*', guardedHeaders(guard));
  serveAssets(app, assets);
  app.get('/api/config', (c) => c.json(testerConfig(options)));
  serveRuns(app, options, history, preview);
  return app;
}

/** Refuses a request from another host or origin (403); sets the headers every answer carries. */
function guardedHeaders(guard: () => OriginGuard): MiddlewareHandler {
  return async (c, next) => {
    const refusal = guard().refusal(c.req.header('host'), c.req.header('origin'));
    if (refusal !== undefined) return c.json({ error: `refused: ${refusal}` }, 403);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    c.header('Cache-Control', 'no-store');
    await next();
    return undefined;
  };
}

/** The page and its files. */
function serveAssets(app: Hono, assets: ReturnType<typeof loadAssets>): void {
  const asset = (c: HonoContext, name: string) => {
    const file = assets.get(name);
    if (file === undefined) return c.json({ error: 'not found' }, 404);
    return c.body(new Uint8Array(file.body), 200, { 'Content-Type': file.type });
  };
  app.get('/', (c) => asset(c, 'index.html'));
  app.get('/ui/:name', (c) => asset(c, c.req.param('name')));
}

/** What the page needs to draw its form: the sides, the event fields, the variables and example events. */
function testerConfig(options: TesterOptions) {
  const bucket = options.bucket ?? process.env.BUCKET_NAME ?? 'my-company-reports-bucket';
  const prefix = options.prefix ?? process.env.PREFIX ?? '2026/04/';
  // Only the documented, non-secret variables: their defaults and, when set, the value this process has.
  const env = ENV_VARIABLES.map((variable) => ({ ...variable, current: process.env[variable.name] ?? '' }));
  const sides = options.sides.map((side) => side.label);
  return { sides, eventFields: EVENT_FIELDS, env, examples: exampleEvents(bucket, prefix) };
}

/** The runs: list, start (one at a time), read, follow (server-sent events) and cancel. */
function serveRuns(app: Hono, options: TesterOptions, history: RunHistory, preview: ManifestPreviewer): void {
  app.get('/api/runs', (c) => c.json(history.summaries()));
  app.post('/api/runs', (c) => startRun(c, options, history, preview));
  const runOf = (c: HonoContext): LiveRun | undefined => history.get(Number(c.req.param('id')));
  app.get('/api/runs/:id', (c) => {
    const run = runOf(c);
    return run === undefined ? c.json({ error: 'no such run' }, 404) : recordAnswer(c, run);
  });
  app.get('/api/runs/:id/events', (c) => {
    const run = runOf(c);
    return run === undefined ? c.json({ error: 'no such run' }, 404) : sseOf(c, run);
  });
  app.post('/api/runs/:id/cancel', (c) => {
    const run = runOf(c);
    if (run === undefined) return c.json({ error: 'no such run' }, 404);
    run.cancel();
    return c.json({ id: run.record.id, state: run.record.state, cancelled: run.record.cancelled });
  });
}

/** Starts a run of the posted event (202 with its id); 415, 400 or 409 when it cannot. */
async function startRun(c: HonoContext, options: TesterOptions, history: RunHistory, preview: ManifestPreviewer) {
  if (!(c.req.header('content-type') ?? '').startsWith('application/json'))
    return c.json({ error: 'send application/json', field: 'content-type' }, 415);
  let body: Body;
  try {
    body = (await c.req.json()) as Body;
  } catch {
    return c.json({ error: 'the request body is not valid JSON', field: 'body' }, 400);
  }
  const parsed = parseRunRequest(body, options.sides.length);
  if ('error' in parsed) return c.json(parsed, 400);
  if (history.active() !== undefined)
    return c.json({ error: 'a run is in progress: wait for it or cancel it', field: null }, 409);
  const labels = parsed.sides.map((i) => options.sides[i]?.label as string);
  const run = history.add(parsed.event, parsed.overrides, parsed.sides, labels);
  void execute(run, options, preview);
  return c.json({ id: run.record.id }, 202);
}

/**
 * Starts the tester on 127.0.0.1 (never another interface). Requests whose `Host` is not `127.0.0.1:<port>` or
 * `localhost:<port>`, or whose `Origin` is another site, are refused with 403.
 */
export async function startTester(options: TesterOptions): Promise<RunningTester> {
  if (options.sides.length < 1 || options.sides.length > 2)
    throw new RangeError('presign-local ui: give one or two handlers');
  let guard: OriginGuard | undefined;
  const history = new RunHistory();
  const app = testerApp(options, () => guard as OriginGuard, history);
  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve(
      { fetch: app.fetch, hostname: '127.0.0.1', port: options.port ?? 0, overrideGlobalObjects: false },
      () => resolve(started),
    );
    started.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  guard = loopbackGuard(port);
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    port,
    close: async (graceMs = 5000) => {
      await history.cancelActive(graceMs);
      await new Promise<void>((resolve) => {
        const http = server as import('node:http').Server;
        http.close(() => resolve());
        http.closeAllConnections?.();
      });
    },
  };
}
