// Every entry point from CommonJS: require() for the dual ones, import() for the one that is an ES module only.
const entries = {
  '@presign-pipeline/core': ['presignPipeline', 's3ListSource', 'fastPresigner', 's3ManifestWriter'],
  '@presign-pipeline/emf': ['emfReporter', 'serializeEmf'],
  '@presign-pipeline/lambda': ['handler', 'createPresignHandler', 'createSqsHandler', 'createBatchHandler'],
  '@presign-pipeline/lambda/idempotency': ['handler', 'dynamoDbIdempotencyStore'],
  '@presign-pipeline/minio-testing': ['startS3Endpoint', 'startMotoServer', 'startFaultProxy'],
  '@presign-pipeline/minio-testing/global-setup': ['default'],
};
const check = (how, specifier, module, names) => {
  const missing = names.filter((name) => typeof module[name] !== 'function');
  if (missing.length) throw new Error(`${how}('${specifier}') lacks ${missing.join(', ')}`);
  console.log(`cjs ok ${how}('${specifier}')`);
};
for (const [specifier, names] of Object.entries(entries)) {
  const resolved = require.resolve(specifier);
  if (!resolved.endsWith('.cjs')) throw new Error(`require('${specifier}') resolved to ${resolved}, not a .cjs file`);
  check('require', specifier, require(specifier), names);
}
// minio-testing's vitest helpers import vitest, itself an ES module only: CommonJS reaches them with import().
import('@presign-pipeline/minio-testing/vitest').then(
  (module) => check('import', '@presign-pipeline/minio-testing/vitest', module, ['useS3Endpoint']),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
