#!/usr/bin/env node
// Draws docs/images/parts.svg: every package's parts (groups of source files) and which part imports which, read
// from the sources' own import lines, so the picture in docs/architecture.md cannot drift from the code.
// `--check` fails when the committed picture differs from the code, or when a source file belongs to no part.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs/images/parts.svg');

/** Packages from the top of the picture (what users call) down to what everything uses. */
export const PACKAGES = [
  {
    name: 'lambda',
    parts: [
      ['handler', /^(handler|idempotency-entry|job-|invocation|respond|run-|cut-manifest)/],
      ['SQS and batch handlers', /^(sqs|batch)/],
      ['local runner and tester', /^(cli\.ts|runner|tester\/)/],
      ['event and environment', /^(config|freshness|listing|inventory|access|memory-size)/],
      ['idempotency', /^(idempotency|dynamodb-idempotency)/],
      ['clients and lifecycle', /^(clients|lifecycle)/],
    ],
  },
  {
    name: 'emf',
    parts: [
      ['EMF reporter', /^emf-(reporter|stores)/],
      ['EMF documents', /^(serialize|emf-document|validate|constants)/],
      ['log and EMF readers', /^readers/],
    ],
  },
  {
    name: 'core',
    parts: [
      ['pipeline', /^(pipeline|url-lifetime)/],
      ['S3 listing', /^s3\/(s3-list-source|.*listing|key-space|list-|resume-token)/],
      ['S3 Inventory', /^inventory\//],
      ['S3 manifest writer', /^s3\/(s3-manifest-writer|manifest-body|pooled-upload|upload-)/],
      ['presigners', /^s3\/(fast-presigner|presign-|sigv4|sdk-presigner)/],
      ['file and memory manifests', /^manifest\//],
      ['sources and reporters', /^(sources|reporters)\//],
      ['types, errors, checks', /^(types|errors|validate|redact|shared|internal|s3\/(validate|request-signals))/],
    ],
  },
  {
    name: 'minio-testing',
    parts: [
      ['vitest setup', /^(global-setup|vitest|provided-context)/],
      ['endpoint', /^(endpoint|runtime|minio|moto|client|bucket|errors)/],
      ['fault proxy', /^fault-proxy/],
      ['S3 simulator', /^simulator\//],
      ['S3 wire: server, operations', /^(loopback-server|s3-operations)/],
    ],
  },
];

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter((file) => file !== 'index.ts')
    .sort();
}

function importsOf(text) {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'/g)].map((match) => match[1]);
}

/** Reads every package: its parts, their files (with line counts) and the arrows between parts. */
export function readHouse() {
  const unplaced = [];
  const packages = PACKAGES.map(({ name, parts }) => {
    const srcDir = join(root, 'packages', name, 'src');
    const partOf = new Map();
    const texts = new Map();
    const placed = parts.map(([title]) => ({ title, files: [] }));
    for (const file of sourceFiles(srcDir)) {
      const index = parts.findIndex(([, pattern]) => pattern.test(file));
      if (index === -1) {
        unplaced.push(`packages/${name}/src/${file}`);
        continue;
      }
      const text = readFileSync(join(srcDir, file), 'utf8');
      placed[index].files.push({ file, lines: text.split('\n').length });
      partOf.set(file, index);
      texts.set(file, text);
    }
    return { name, parts: placed, partOf, texts };
  });
  const arrows = new Set();
  const uses = new Set();
  for (const pkg of packages) {
    for (const [file, from] of pkg.partOf) {
      for (const spec of importsOf(pkg.texts.get(file))) {
        if (spec.startsWith('@presign-pipeline/')) {
          const other = spec.slice('@presign-pipeline/'.length).split('/')[0];
          if (other !== pkg.name) uses.add(`${pkg.name}>${other}`);
          continue;
        }
        if (!spec.startsWith('.')) continue;
        const resolved = join(dirname(file), spec).split('\\').join('/').replace(/\.js$/, '.ts');
        const to = pkg.partOf.get(resolved);
        if (to !== undefined && to !== from) arrows.add(`${pkg.name}:${from}>${to}`);
      }
    }
  }
  return { packages, arrows, uses, unplaced };
}

/** Rows of parts: a part stands above every part of its package that it imports. */
function floors(pkg, arrows) {
  const depends = pkg.parts.map(() => new Set());
  for (const arrow of arrows) {
    const [name, pair] = arrow.split(':');
    if (name !== pkg.name) continue;
    const [from, to] = pair.split('>').map(Number);
    depends[from].add(to);
  }
  const height = new Map();
  const heightOf = (index, seen = new Set()) => {
    if (height.has(index)) return height.get(index);
    if (seen.has(index)) return 0;
    seen.add(index);
    const h = Math.max(0, ...[...depends[index]].map((to) => heightOf(to, seen) + 1));
    height.set(index, h);
    return h;
  };
  for (const index of pkg.parts.keys()) heightOf(index);
  const top = Math.max(...height.values());
  const rows = Array.from({ length: top + 1 }, () => []);
  for (const [index, h] of height) rows[top - h].push(index);
  return rows.map((row) => row.sort((a, b) => a - b)).filter((row) => row.length > 0);
}

const WIDTH = 1280;
const MARGIN = 24;
const LINE = 14;
const xmlText = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Lays the house out and returns the SVG text. */
export function drawHouse({ packages, arrows, uses }) {
  const frames = [];
  const out = [];
  const lines = [];
  const boxes = new Map();
  let y = MARGIN + 28;
  for (const pkg of packages) {
    const top = y;
    y += 34;
    for (const row of floors(pkg, arrows)) {
      const gap = 28;
      const width = (WIDTH - 2 * MARGIN - 32 - gap * (row.length - 1)) / row.length;
      const height = Math.max(...row.map((index) => 30 + pkg.parts[index].files.length * LINE));
      row.forEach((index, column) => {
        const x = MARGIN + 16 + column * (width + gap);
        boxes.set(`${pkg.name}:${index}`, { x, y, width, height });
        const part = pkg.parts[index];
        const lines = part.files.reduce((sum, f) => sum + f.lines, 0);
        out.push(`<rect class="part" x="${x}" y="${y}" width="${width}" height="${height}" rx="6"/>`);
        out.push(`<text class="title" x="${x + 10}" y="${y + 19}">${xmlText(part.title)}</text>`);
        out.push(`<text class="count" x="${x + width - 10}" y="${y + 19}" text-anchor="end">${lines} lines</text>`);
        part.files.forEach((f, i) => {
          out.push(`<text class="file" x="${x + 10}" y="${y + 38 + i * LINE}">${xmlText(f.file)}</text>`);
        });
      });
      y += height + 34;
    }
    const uses_ = [...uses].filter((u) => u.startsWith(`${pkg.name}>`)).map((u) => u.split('>')[1]);
    const usesText = uses_.length ? ` — uses ${uses_.map((u) => `@presign-pipeline/${u}`).join(', ')}` : '';
    frames.push(
      `<rect class="package" x="${MARGIN}" y="${top}" width="${WIDTH - 2 * MARGIN}" height="${y - top - 16}" rx="10"/>`,
      `<text class="package-title" x="${MARGIN + 14}" y="${top + 22}">@presign-pipeline/${pkg.name}${xmlText(usesText)}</text>`,
    );
    y += 4;
  }
  // Each arrow leaves its part's bottom edge and enters the other's top edge at its own point, ordered by where the
  // other end lies, so arrows neither share a point nor cross more than they must.
  const ends = [...arrows].sort().map((arrow) => {
    const [name, pair] = arrow.split(':');
    const [from, to] = pair.split('>');
    return { a: boxes.get(`${name}:${from}`), b: boxes.get(`${name}:${to}`) };
  });
  const slot = (box, side, other) => {
    const mine = ends.filter((end) => end[side] === box).map((end) => end[side === 'a' ? 'b' : 'a']);
    mine.sort((p, q) => p.x - q.x || p.y - q.y);
    return box.x + (box.width * (mine.indexOf(other) + 1)) / (mine.length + 1);
  };
  for (const { a, b } of ends) {
    const down = a.y < b.y;
    const x1 = slot(a, 'a', b);
    const x2 = slot(b, 'b', a);
    const y1 = down ? a.y + a.height : a.y;
    const y2 = down ? b.y : b.y + b.height;
    const bend = (y2 - y1) / 2;
    lines.push(
      `<path class="arrow" d="M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}" marker-end="url(#head)"/>`,
    );
  }
  const height = y + MARGIN - 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.package{fill:#f4f6f9;stroke:#5b6b82;stroke-width:1.5}.package-title{font-size:15px;font-weight:bold;fill:#1f2d3d}' +
      '.part{fill:#ffffff;fill-opacity:.9;stroke:#8fa3bf}.title{font-size:13px;font-weight:bold;fill:#1f2d3d}.count{font-size:11px;fill:#6b7a8f}' +
      '.file{font-size:11px;fill:#3c4a5c;font-family:Menlo,Consolas,monospace}.arrow{fill:none;stroke:#4f6d9a;stroke-width:1.3;opacity:.75}' +
      '.legend{font-size:12px;fill:#3c4a5c}</style>',
    '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#7a8aa3"/></marker></defs>',
    `<text class="legend" x="${MARGIN}" y="${MARGIN + 8}">Each package's parts; an arrow runs from a part to a part it imports (it may pass behind a part on its way). Generated by scripts/parts-map.mjs from the sources.</text>`,
    ...frames,
    ...lines,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const house = readHouse();
  if (house.unplaced.length) {
    process.stderr.write(
      `These source files belong to no part in scripts/parts-map.mjs:\n  ${house.unplaced.join('\n  ')}\n`,
    );
    process.exit(1);
  }
  const svg = drawHouse(house);
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== svg) {
      process.stderr.write('docs/images/parts.svg differs from the code: run node scripts/parts-map.mjs\n');
      process.exit(1);
    }
  } else {
    writeFileSync(target, svg);
    process.stdout.write(`wrote ${relative(root, target)}\n`);
  }
}
