// #region handler
// The whole function: the documented handler, configured by its event and environment.
// sam build bundles this file into handler.js, so the template's Handler is `handler.handler`.
export { handler } from '@presign-pipeline/lambda';
// #endregion handler
