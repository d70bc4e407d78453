// Every entry point, loaded as an ES module the way a consumer's code does.
const entries = {
  '@presign-pipeline/core': ['presignPipeline', 's3ListSource', 'fastPresigner', 's3ManifestWriter'],
  '@presign-pipeline/emf': ['emfReporter', 'serializeEmf'],
  '@presign-pipeline/lambda': ['handler', 'createPresignHandler', 'createSqsHandler', 'createBatchHandler'],
  '@presign-pipeline/lambda/idempotency': ['handler', 'dynamoDbIdempotencyStore'],
  '@presign-pipeline/minio-testing': ['startS3Endpoint', 'startMotoServer', 'startFaultProxy'],
  '@presign-pipeline/minio-testing/global-setup': ['default'],
  '@presign-pipeline/minio-testing/vitest': ['useS3Endpoint'],
};
for (const [specifier, names] of Object.entries(entries)) {
  const module = await import(specifier);
  const missing = names.filter((name) => typeof module[name] !== 'function');
  if (missing.length) throw new Error(`import('${specifier}') lacks ${missing.join(', ')}`);
  console.log(`esm ok ${specifier}`);
}
