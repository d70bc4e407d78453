/** A request the simulator refuses, answered as an S3 error document with this status and code. */
export class S3SimulatorRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3SimulatorRequestError';
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for an XML element. Control characters (carriage returns included, which XML parsers would
 * otherwise normalise away) go out as numeric references, as S3 writes them.
 */
export function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"'\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\u007f]/g,
    (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`,
  );
}

/** An S3 error document; its `HostId` is the request id unless given. */
export function errorXml(
  code: string,
  message: string,
  requestId: string,
  resource?: string,
  hostId = requestId,
): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
    (resource === undefined ? '' : `<Resource>${xmlEscape(resource)}</Resource>`) +
    `<RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`
  );
}

/** The text of each `<name>…</name>` element of a small document (a CompleteMultipartUpload body). */
export function elementTexts(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  return [...xml.matchAll(pattern)].map((match) => match[1]!);
}
