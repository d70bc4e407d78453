export { default } from '@presign-pipeline/minio-testing/global-setup';
