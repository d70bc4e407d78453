import type { ConfigResult, PresignConfig } from '../../src/config.js';

/** The configuration `resolveConfig` resolved; fails the test with the rejection when it refused. */
export function ok(result: ConfigResult): PresignConfig {
  if (!result.ok) throw new Error(`expected a configuration, got ${JSON.stringify(result.rejection)}`);
  return result.config;
}

/** The rejection `resolveConfig` answered; fails the test with the configuration when it accepted. */
export function rejected(result: ConfigResult): { statusCode: number; field: string; error: string } {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.config)}`);
  return result.rejection;
}
