#!/usr/bin/env node
// `npm run screenshot:tester`: starts the tester as `npm run tester` does, runs the seeded example through both
// handlers in headless Chromium and saves the side-by-side view as docs/images/tester-side-by-side.png.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2] ?? `${root}docs/images/tester-side-by-side.png`;
// playwright-core is a dev dependency of the lambda package (it never downloads a browser of its own).
const { chromium } = createRequire(`${root}packages/lambda/package.json`)('playwright-core');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const tester = spawn(process.execPath, [`${root}scripts/tester.mjs`], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, DEMO_OBJECTS: process.env.DEMO_OBJECTS ?? '250' },
});
const url = await new Promise((resolve, reject) => {
  let seen = '';
  tester.stdout.on('data', (chunk) => {
    seen += chunk;
    const match = /the tester is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(seen);
    if (match) resolve(match[1]);
  });
  tester.on('exit', (code) => reject(new Error(`the tester exited (${code}) before it was listening`)));
});

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  // Pages of 50 keys: both handlers list several pages, so the comparison has something to show.
  await page.fill(
    '#event',
    JSON.stringify(
      { bucket: 'presign-pipeline-demo', prefix: '2026/04/', expiry_seconds: 900, page_size: 50 },
      null,
      2,
    ),
  );
  await page.click('#invoke');
  await page.waitForSelector('#history-list li', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('#progress')?.textContent?.includes('done'), undefined, {
    timeout: 120_000,
  });
  await page.screenshot({ path: out, fullPage: true });
  process.stderr.write(`Saved ${out}\n`);
} finally {
  await browser.close();
  tester.kill('SIGTERM');
}
