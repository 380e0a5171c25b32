/**
 * Cuts an upload into storage chunks as it streams in, counting bytes and lines, handing each finished
 * line to an optional validator and recording per chunk where its first line begins (the line index
 * FileStore.readLines pages by). Memory is one chunk plus, when validating, the current line.
 */
import { FileRejectedError, InvalidLineError } from './file-errors';

export interface StoredChunk {
  seq: number;
  data: Buffer;
  /** 0-based index of the first line that begins in this chunk (null: none begins here). */
  firstLine: number | null;
  /** Byte offset of that line's start within `data`. */
  firstLineOffset: number | null;
}

export interface ChunkerOptions {
  chunkBytes: number;
  maxBytes: number;
  maxLines: number;
  /** Longest line a validator is handed (the line is held in memory while it streams in). */
  maxLineBytes: number;
  /** Throws InvalidLineError for a bad line; `lineNumber` is 1-based. */
  validateLine?: (text: string, lineNumber: number) => void;
}

const NEWLINE = 0x0a;

export class JsonlChunker {
  /** Bytes taken so far. */
  bytes = 0;
  /** Lines begun so far (a line begins with any byte after a newline or at the start). */
  lines = 0;
  private seq = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private firstLine: number | null = null;
  private firstLineOffset: number | null = null;
  private atLineStart = true;
  private lineParts: Buffer[] = [];
  private lineBytes = 0;

  constructor(private readonly options: ChunkerOptions) {}

  /** Take the next piece of the upload; returns the chunks it filled (each exactly chunkBytes long). */
  push(piece: Buffer): StoredChunk[] {
    this.bytes += piece.length;
    if (this.bytes > this.options.maxBytes) {
      throw new FileRejectedError(`The file is larger than the ${this.options.maxBytes} byte limit.`, 'file_too_large', null, 'too_large');
    }
    const filled: StoredChunk[] = [];
    let offset = 0;
    while (offset < piece.length) {
      const part = piece.subarray(offset, offset + Math.min(piece.length - offset, this.options.chunkBytes - this.size));
      this.scanLines(part);
      this.parts.push(part);
      this.size += part.length;
      offset += part.length;
      if (this.size === this.options.chunkBytes) filled.push(this.takeChunk());
    }
    return filled;
  }

  /** The upload ended: validate its last line (which may lack a newline) and return the partial last chunk. */
  end(): StoredChunk | undefined {
    if (!this.atLineStart) this.finishLine();
    return this.size > 0 ? this.takeChunk() : undefined;
  }

  private scanLines(part: Buffer): void {
    let start = 0;
    while (start < part.length) {
      if (this.atLineStart) this.beginLine(this.size + start);
      const newline = part.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.appendToLine(part.subarray(start));
        return;
      }
      this.appendToLine(part.subarray(start, newline));
      this.finishLine();
      start = newline + 1;
    }
  }

  private beginLine(offsetInChunk: number): void {
    this.atLineStart = false;
    if (this.firstLine === null) {
      this.firstLine = this.lines;
      this.firstLineOffset = offsetInChunk;
    }
    this.lines += 1;
    if (this.lines > this.options.maxLines) {
      throw new FileRejectedError(`The file has more than ${this.options.maxLines} lines (the limit for one file).`, 'too_many_lines', this.lines);
    }
  }

  private appendToLine(bytes: Buffer): void {
    if (!this.options.validateLine || bytes.length === 0) return;
    this.lineBytes += bytes.length;
    if (this.lineBytes > this.options.maxLineBytes) {
      throw new FileRejectedError(`line ${this.lines}: longer than the ${this.options.maxLineBytes} byte limit for one line`, 'line_too_long', this.lines);
    }
    this.lineParts.push(bytes);
  }

  private finishLine(): void {
    this.atLineStart = true;
    const validate = this.options.validateLine;
    if (!validate) return;
    const text = Buffer.concat(this.lineParts, this.lineBytes).toString('utf8');
    this.lineParts = [];
    this.lineBytes = 0;
    try {
      validate(text, this.lines);
    } catch (error) {
      if (error instanceof InvalidLineError) throw new FileRejectedError(`line ${this.lines}: ${error.message}`, error.code, this.lines);
      throw error;
    }
  }

  private takeChunk(): StoredChunk {
    const chunk: StoredChunk = {
      seq: this.seq, data: Buffer.concat(this.parts, this.size), firstLine: this.firstLine, firstLineOffset: this.firstLineOffset,
    };
    this.seq += 1;
    this.parts = [];
    this.size = 0;
    this.firstLine = null;
    this.firstLineOffset = null;
    return chunk;
  }
}
