/**
 * A streaming reader of CSV records (RFC 4180: fields separated by commas, records by LF or CRLF; a field in double
 * quotes may hold commas, quotes doubled as `""`, and line breaks). It keeps only the fields asked for, so a record
 * costs a few native `indexOf` calls and one string per kept field. Every record must have as many fields as the
 * schema has columns. @internal
 */

/** A record's kept fields, by column position; columns not kept are undefined. */
export type CsvRecord = (string | undefined)[];

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;

/** A record could not be completed from the text at hand: more text is needed. */
const INCOMPLETE = -1;

/** The error for text that is not CSV (a quote in the middle of an unquoted field, text after a closing quote). */
function syntaxError(problem: string): Error {
  return new Error(`malformed CSV: ${problem}`);
}

/**
 * Splits text arriving in chunks into records. `push` takes the next chunk and calls `onRecord` for every record it
 * completes; `end` flushes a last record without a trailing newline. The kept fields are written into one array that
 * is reused for every record: copy what you keep.
 */
export class CsvRecordReader {
  private carry = '';
  private readonly keep: boolean[];
  private readonly fields: CsvRecord;
  /** Records read so far. */
  records = 0;

  constructor(columnCount: number, keptColumns: readonly number[]) {
    this.keep = Array.from({ length: columnCount }, (_, i) => keptColumns.includes(i));
    this.fields = new Array<string | undefined>(columnCount).fill(undefined);
  }

  push(chunk: string, onRecord: (fields: CsvRecord) => void): void {
    const text = this.carry.length === 0 ? chunk : this.carry + chunk;
    let position = 0;
    while (position < text.length) {
      const first = text.charCodeAt(position);
      if (first === LF || first === CR) {
        position++; // a blank line is no record
        continue;
      }
      const end = this.parseRecord(text, position, false);
      if (end === INCOMPLETE) break;
      this.records++;
      onRecord(this.fields);
      position = end;
    }
    this.carry = position === 0 ? text : text.slice(position);
  }

  end(onRecord: (fields: CsvRecord) => void): void {
    const text = this.carry;
    this.carry = '';
    if (text.length === 0 || text === '\r') return;
    const end = this.parseRecord(text, 0, true);
    if (end === INCOMPLETE) throw syntaxError('the data ends inside a quoted field');
    this.records++;
    onRecord(this.fields);
  }

  /** Parses one record starting at `start`: the position after its line break, or INCOMPLETE. */
  private parseRecord(text: string, start: number, final: boolean): number {
    let position = start;
    let column = 0;
    const { keep, fields } = this;
    for (;;) {
      const wanted = keep[column] === true;
      let value: string | undefined;
      let next: number;
      if (text.charCodeAt(position) === QUOTE) {
        const closed = closingQuote(text, position + 1, final);
        if (closed === INCOMPLETE) return INCOMPLETE;
        if (wanted) value = unescapeQuoted(text, position + 1, closed);
        next = closed + 1;
      } else {
        next = unquotedEnd(text, position);
        if (next === INCOMPLETE) {
          if (!final) return INCOMPLETE;
          next = text.length;
        }
        if (wanted) value = text.slice(position, next);
      }
      if (column < fields.length) fields[column] = value;
      column++;
      const separator = next < text.length ? text.charCodeAt(next) : INCOMPLETE;
      if (separator === COMMA) {
        position = next + 1;
        continue;
      }
      if (separator === INCOMPLETE) {
        if (!final) return INCOMPLETE;
        return this.finishRecord(column, text.length);
      }
      if (separator === LF) return this.finishRecord(column, next + 1);
      if (separator === CR) {
        if (next + 1 >= text.length && !final) return INCOMPLETE;
        return this.finishRecord(column, text.charCodeAt(next + 1) === LF ? next + 2 : next + 1);
      }
      throw syntaxError(`unexpected character after a quoted field in record ${this.records + 1}`);
    }
  }

  /**
   * Ends a record of `columns` fields at `end`. A record with more or fewer fields than the schema has columns is
   * refused: read by the wrong schema (a versioned report described by a non-versioned one, say), every column would
   * be read from the wrong field.
   */
  private finishRecord(columns: number, end: number): number {
    if (columns !== this.fields.length) {
      throw syntaxError(
        `record ${this.records + 1} has ${columns} field${columns === 1 ? '' : 's'}, the manifest's fileSchema ${this.fields.length} columns`,
      );
    }
    return end;
  }
}

/** The position of the quote that closes a quoted field whose content starts at `from`, or INCOMPLETE. */
function closingQuote(text: string, from: number, final: boolean): number {
  let position = from;
  for (;;) {
    const quote = text.indexOf('"', position);
    if (quote === -1) return INCOMPLETE;
    if (quote + 1 >= text.length) return final ? quote : INCOMPLETE; // "" could straddle the chunk boundary
    if (text.charCodeAt(quote + 1) !== QUOTE) return quote;
    position = quote + 2;
  }
}

function unescapeQuoted(text: string, from: number, to: number): string {
  const value = text.slice(from, to);
  return value.indexOf('""') === -1 ? value : value.replace(/""/g, '"');
}

/** Where an unquoted field starting at `from` ends (at a comma or line break), or INCOMPLETE. */
function unquotedEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === LF || c === CR) return i;
    if (c === QUOTE) throw syntaxError('a double quote inside an unquoted field');
  }
  return INCOMPLETE;
}
