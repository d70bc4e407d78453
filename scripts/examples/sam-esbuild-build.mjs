// Builds every function of template.yaml whose Metadata says `BuildMethod: esbuild` the way SAM's esbuild builder
// does (`sam build` runs esbuild with --bundle --platform=node and the BuildProperties), then loads each bundle and
// checks it exports the function its `Handler` names. SAM CLI itself cannot be installed here (no Python package
// index, no container runtime), so this script stands in for it; it runs in the copied example's own directory with
// the example's own esbuild and yaml.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';

// CloudFormation's short tags (!Sub, !Ref, !GetAtt…) only need to parse, not to mean anything here.
const cfnTags = ['Sub', 'Ref', 'GetAtt', 'If', 'Equals', 'Not', 'Join', 'Select', 'Split', 'FindInMap', 'And', 'Or'];
const customTags = cfnTags.flatMap((name) =>
  ['scalar', 'seq', 'map'].map((collection) => ({
    tag: `!${name}`,
    collection: collection === 'scalar' ? undefined : collection,
    resolve: (value) => value,
  })),
);
const template = parse(readFileSync('template.yaml', 'utf8'), { customTags });
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const functions = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Metadata?.BuildMethod === 'esbuild');
if (functions.length === 0) throw new Error('template.yaml has no function with BuildMethod: esbuild');
if (!pkg.dependencies?.esbuild && !pkg.devDependencies?.esbuild) {
  throw new Error('the template builds with esbuild, but package.json does not list esbuild: `sam build` would fail');
}

const list = (value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);
const pairs = (value) =>
  list(value) && Object.fromEntries(list(value).map((entry) => entry.split(/=(.*)/s).slice(0, 2)));

/** The function's environment as Lambda would set it: Globals and its own variables, plus a region. */
function functionEnv(resource) {
  const variables = {
    ...template.Globals?.Function?.Environment?.Variables,
    ...resource.Properties.Environment?.Variables,
  };
  const env = { ...process.env, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const [key, value] of Object.entries(variables)) {
    env[key] =
      typeof value === 'string' || typeof value === 'number' ? String(value) : `placeholder-${key.toLowerCase()}`;
  }
  return env;
}

for (const [name, resource] of functions) {
  const props = resource.Metadata.BuildProperties ?? {};
  const codeUri = resource.Properties.CodeUri ?? '.';
  // Outside the project, as Lambda holds it: no package.json with "type": "module" above the bundle.
  const outdir = mkdtempSync(join(tmpdir(), `sam-build-${name}-`));
  const format = props.Format ?? 'cjs';
  const outExtension = pairs(props.OutExtension);
  await build({
    entryPoints: props.EntryPoints.map((entry) => join(codeUri, entry)),
    outdir,
    bundle: true,
    platform: props.Platform ?? 'node',
    format,
    target: props.Target ?? 'es2020',
    minify: props.Minify ?? true,
    sourcemap: props.Sourcemap ?? false,
    external: list(props.External),
    mainFields: props.MainFields?.split(','),
    loader: pairs(props.Loader),
    banner: pairs(props.Banner),
    footer: pairs(props.Footer),
    outExtension,
    logLevel: 'error',
  });
  const [file, exportName] = resource.Properties.Handler.split(/\.(?=[^.]+$)/);
  const bundle = join(outdir, `${file}${outExtension?.['.js'] ?? '.js'}`);
  if (!existsSync(bundle))
    throw new Error(`${name}: the build made no ${bundle} for Handler ${resource.Properties.Handler}`);
  // Loaded in a fresh process with the environment the template gives the function (intrinsics as placeholders).
  const load = format === 'esm' ? 'import(process.argv[1])' : 'Promise.resolve(require(process.argv[1]))';
  const probe = `${load}.then((m) => process.exit(typeof m[${JSON.stringify(exportName)}] === 'function' ? 0 : 3))`;
  const child = spawnSync(process.execPath, ['-e', probe, bundle], { env: functionEnv(resource), encoding: 'utf8' });
  if (child.status === 3) throw new Error(`${name}: ${bundle} does not export ${exportName}()`);
  if (child.status !== 0) throw new Error(`${name}: ${bundle} fails to load:\n${child.stderr.slice(-2000)}`);
  rmSync(outdir, { recursive: true, force: true });
  console.log(`${name}: built ${file}.js as the template says; it exports ${exportName}()`);
}
