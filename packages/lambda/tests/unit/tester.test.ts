import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUi } from '../../src/tester/cli-ui.js';
import { loopbackGuard } from '../../src/tester/guard.js';
import { asHandlerModule, loadSide } from '../../src/tester/handler-module.js';

describe('loopbackGuard', () => {
  const guard = loopbackGuard(8787);
  it('lets the tester’s own host through, with or without its own origin', () => {
    expect(guard.refusal('127.0.0.1:8787', undefined)).toBeUndefined();
    expect(guard.refusal('localhost:8787', 'http://localhost:8787')).toBeUndefined();
    expect(guard.refusal('LOCALHOST:8787', 'http://127.0.0.1:8787')).toBeUndefined();
  });
  it('refuses another host, another port, no host, and another origin', () => {
    expect(guard.refusal('rebound.example:8787', undefined)).toMatch(/Host/);
    expect(guard.refusal('127.0.0.1:8788', undefined)).toMatch(/Host/);
    expect(guard.refusal(undefined, undefined)).toMatch(/Host/);
    expect(guard.refusal('127.0.0.1:8787', 'http://evil.example')).toMatch(/Origin/);
    expect(guard.refusal('127.0.0.1:8787', 'null')).toMatch(/Origin/);
    expect(guard.refusal('127.0.0.1:8787', 'https://127.0.0.1:8787')).toMatch(/Origin/);
  });
});

describe('loading a handler module', () => {
  it('takes handler and createHandler, also from a default export, and names a module that has neither', () => {
    const handler = async () => ({ statusCode: 200, body: '{}' });
    expect(asHandlerModule('m', { handler }).handler).toBe(handler);
    expect(asHandlerModule('m', { default: { handler } }).handler).toBe(handler);
    expect(() => asHandlerModule('./nothing.js', { other: 1 })).toThrow(
      './nothing.js exports neither a handler function nor createHandler',
    );
  });

  it('loads a module by path, with its label and function name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tester-module-'));
    try {
      await writeFile(
        join(dir, 'h.mjs'),
        "export const label = 'mine'; export const functionName = 'fn'; export async function handler() { return { statusCode: 204, body: '' }; }\n",
      );
      const side = await loadSide('h.mjs', dir);
      expect(side).toMatchObject({ label: 'mine', functionName: 'fn' });
      expect(await side.module.handler?.({}, {} as never)).toEqual({ statusCode: 204, body: '' });
      expect((await loadSide('documented')).module.createHandler).toBeTypeOf('function');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('presign-local ui arguments', () => {
  it('answers 64 with the usage for a bad port, an unknown option or a module without a handler', async () => {
    const errors: string[] = [];
    const err = (text: string) => void errors.push(text);
    expect(await runUi(['--port', 'http'], () => undefined, err)).toBe(64);
    expect(errors.pop()).toContain('--port must be an integer from 0');
    expect(await runUi(['--timeout-ms', '3000000000'], () => undefined, err)).toBe(64);
    expect(errors.pop()).toContain('--timeout-ms must be a positive integer up to 2147483647 (got 3000000000)');
    expect(await runUi(['--bogus'], () => undefined, err)).toBe(64);
    expect(errors.pop()).toContain('Usage: presign-local ui');
    const dir = await mkdtemp(join(tmpdir(), 'tester-module-'));
    try {
      await writeFile(join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
      expect(await runUi(['--handler', join(dir, 'empty.mjs')], () => undefined, err)).toBe(64);
      expect(errors.pop()).toContain('exports neither a handler function nor createHandler');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints the usage for --help', async () => {
    let out = '';
    expect(
      await runUi(
        ['--help'],
        (text) => {
          out += text;
        },
        () => undefined,
      ),
    ).toBe(0);
    expect(out).toContain('--compare MODULE');
  });
});
