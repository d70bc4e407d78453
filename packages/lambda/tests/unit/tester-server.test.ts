import { describe, expect, it } from 'vitest';
import { loopbackGuard } from '../../src/tester/guard.js';
import type { TesterSide } from '../../src/tester/handler-module.js';
import { RunHistory } from '../../src/tester/runs.js';
import { startTester, testerApp } from '../../src/tester/server.js';

const HOST = '127.0.0.1:4000';

/** A side whose handler runs until the page cancels it. */
const waitingSide: TesterSide = {
  label: 'waits for cancel',
  functionName: 'waiting',
  module: {
    createHandler: (options) => () =>
      new Promise((_resolve, reject) => {
        options.signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('cancelled'), { name: 'AbortError' })),
        );
      }),
  },
};

/** A side that answers with a body JSON cannot hold. */
const bigintSide: TesterSide = {
  label: 'bigint',
  functionName: 'bigint',
  module: { handler: async () => ({ statusCode: 200, body: 1n }) },
};

/** A side whose createHandler throws. */
const throwingFactorySide: TesterSide = {
  label: 'factory throws',
  functionName: 'throws',
  module: {
    createHandler: () => {
      throw new Error('createHandler boom');
    },
  },
};

function tester(sides: TesterSide[] = [waitingSide], history?: RunHistory) {
  const app = testerApp({ sides, bucket: 'reports', prefix: 'r/' }, () => loopbackGuard(4000), history);
  const call = (path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { host: HOST, ...(init.headers as Record<string, string> | undefined) } });
  const post = (path: string, body: string, type = 'application/json') =>
    call(path, { method: 'POST', body, headers: { 'content-type': type } });
  return { call, post };
}

type Record_ = { state?: string; panels?: Array<{ status?: string; error?: { name: string; message: string } }> };

/** Polls a run until it is done. */
async function doneRun(call: ReturnType<typeof tester>['call'], id: number): Promise<Record_> {
  let record: Record_ = {};
  for (let i = 0; i < 100 && record.state !== 'done'; i++) {
    const answer = await call(`/api/runs/${id}`);
    expect(answer.status).toBe(200);
    record = (await answer.json()) as Record_;
    if (record.state !== 'done') await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return record;
}

describe('testerApp', () => {
  it('refuses another host with 403, and answers its own with the page and its safety headers', async () => {
    const { call } = tester();
    const refused = await call('/', { headers: { host: 'evil.example' } });
    const page = await call('/');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^refused: /) });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await call('/ui/no-such-file.js')).status).toBe(404);
  });

  it('describes its sides and example events for the bucket and prefix it was given', async () => {
    const config = (await (await tester().call('/api/config')).json()) as { sides: string[]; examples: unknown };
    expect(config.sides).toEqual(['waits for cancel']);
    expect(JSON.stringify(config.examples)).toContain('"reports"');
  });

  it('starts one run at a time, refusing what it cannot run, and cancels it', async () => {
    const { call, post } = tester();
    // Prepare / Act: requests it refuses, then a run, then a second run while the first is going.
    const wrongType = await post('/api/runs', '{}', 'text/plain');
    const notJson = await post('/api/runs', '{');
    const noEvent = await post('/api/runs', '{}');
    const started = await post('/api/runs', '{"event":{"bucket":"reports"}}');
    const { id } = (await started.json()) as { id: number };
    const second = await post('/api/runs', '{"event":{}}');
    const cancelled = await call(`/api/runs/${id}/cancel`, { method: 'POST' });
    // Assess
    expect([wrongType.status, notJson.status, noEvent.status]).toEqual([415, 400, 400]);
    expect(await noEvent.json()).toMatchObject({ field: 'event' });
    expect(started.status).toBe(202);
    expect(second.status).toBe(409);
    expect(await cancelled.json()).toMatchObject({ id, cancelled: true });
    expect((await call('/api/runs/999')).status).toBe(404);
    let record: { state?: string; panels?: Array<{ status?: string }> } = {};
    for (let i = 0; i < 100 && record.state !== 'done'; i++) {
      record = (await (await call(`/api/runs/${id}`)).json()) as typeof record;
      if (record.state !== 'done') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(record.state).toBe('done');
    expect(record.panels?.[0]?.status).toBe('cancelled');
  });

  it('shows a side whose createHandler throws as threw, and a body JSON cannot hold as unserialisable', async () => {
    const { call, post } = tester([throwingFactorySide, bigintSide]);
    const { id } = (await (await post('/api/runs', '{"event":{}}')).json()) as { id: number };
    const record = await doneRun(call, id);
    expect(record.panels?.map((panel) => panel.status)).toEqual(['threw', 'unserialisable']);
    expect(record.panels?.[0]?.error?.message).toBe('createHandler boom');
  });

  it('follows a run with an unserialisable body over server-sent events to its end', async () => {
    const { call, post } = tester([bigintSide]);
    const { id } = (await (await post('/api/runs', '{"event":{}}')).json()) as { id: number };
    const events = await (await call(`/api/runs/${id}/events`)).text();
    expect(events).toContain('event: done');
    expect(events).toContain('"status":"unserialisable"');
  });

  it('cancels the run in progress and waits for it when the history is told to', async () => {
    const history = new RunHistory();
    const { post } = tester([waitingSide], history);
    await post('/api/runs', '{"event":{}}');
    const run = history.active();
    await history.cancelActive(5000);
    expect(run?.record).toMatchObject({ state: 'done', cancelled: true });
    expect(run?.record.panels[0]?.status).toBe('cancelled');
  });
});

describe('startTester', () => {
  it('cancels a run in progress when it closes, giving its handler time to clean up', async () => {
    let cleanedUp = false;
    const cleaningSide: TesterSide = {
      label: 'cleans up',
      functionName: 'cleans',
      module: {
        createHandler: (options) => () =>
          new Promise((_resolve, reject) => {
            options.signal.addEventListener('abort', () =>
              setTimeout(() => {
                cleanedUp = true;
                reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
              }, 50),
            );
          }),
      },
    };
    const running = await startTester({ sides: [cleaningSide] });
    const started = await fetch(`${running.url}api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"event":{}}',
    });
    expect(started.status).toBe(202);
    await running.close(5000);
    expect(cleanedUp).toBe(true);
  });
});
