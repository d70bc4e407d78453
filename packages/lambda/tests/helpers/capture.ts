import type { S3Client } from '@aws-sdk/client-s3';
import { extractEmfMetrics, extractJsonLogs, parseEmfDocuments } from '@presign-pipeline/emf';
import { offlineS3Client } from './s3-clients.js';

/** Collects what a handler writes (log lines and EMF documents), one entry per line. */
export function lineSink(): { write: (line: string) => void; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return { write: (line) => void lines.push(line), lines, text: () => lines.join('\n') };
}

/** Reads the captured lines back as logs, EMF documents and flattened metrics. */
export function readCaptured(lines: readonly string[]) {
  const text = lines.join('\n');
  return { logs: extractJsonLogs(text), documents: parseEmfDocuments(text), metrics: extractEmfMetrics(text) };
}

/**
 * A real S3Client that never reaches the network: every command is counted and rejected. Proves that a code path
 * makes no S3 call (the count stays 0).
 */
export function countingS3Client(): { client: S3Client; calls: () => number; commands: string[] } {
  const commands: string[] = [];
  const client = offlineS3Client();
  client.middlewareStack.add(
    (_next, context) => async () => {
      commands.push(String(context.commandName));
      const error = new Error('S3 is not reachable in unit tests');
      error.name = 'UnitTestNoS3';
      throw error;
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, calls: () => commands.length, commands };
}
