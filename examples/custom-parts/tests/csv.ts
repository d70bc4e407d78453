// A strict RFC 4180 reader for the tests: rows end with CRLF, quoted fields may hold commas, quotes and line breaks.
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        field += c;
        i += 1;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '"' || c === '\r' || c === '\n') {
      throw new Error(`malformed CSV at offset ${i}: a bare ${JSON.stringify(c)} outside quotes`);
    } else {
      field += c;
      i += 1;
    }
  }
  if (quoted) throw new Error('malformed CSV: unterminated quoted field');
  if (field !== '' || row.length > 0) throw new Error('malformed CSV: the last row does not end with CRLF');
  return rows;
}
