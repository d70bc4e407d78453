// Loads one handler bundle in a fresh process, as Lambda does, invokes it with the event in argv[3] and writes the
// response to the file in argv[4] (stdout carries the handler's own log lines).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundle, event, resultFile] = process.argv.slice(2);
const path = resolve(bundle);
const module = path.endsWith('.cjs') ? createRequire(import.meta.url)(path) : await import(pathToFileURL(path).href);
const response = await module.handler(JSON.parse(event));
writeFileSync(resultFile, JSON.stringify(response));
