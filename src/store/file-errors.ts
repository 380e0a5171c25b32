/** Errors of the file store, with structured fields so the HTTP layer maps them without reading messages. */

/** Thrown by a line validator for one bad line; FileStore.create prefixes the line number. */
export class InvalidLineError extends Error {
  constructor(message: string, readonly code = 'invalid_request') {
    super(message);
    this.name = 'InvalidLineError';
  }
}

/**
 * Thrown by FileStore.create when an upload is refused: a bad line (`line` is its 1-based number), too
 * many lines, too many bytes (`reason: 'too_large'`), or an empty batch file. Nothing of it is stored.
 */
export class FileRejectedError extends Error {
  constructor(message: string, readonly code: string, readonly line: number | null = null, readonly reason: 'invalid' | 'too_large' = 'invalid') {
    super(message);
    this.name = 'FileRejectedError';
  }
}

/** Thrown by FileStore.readLines when the file does not exist for that tenant (deleted, expired, never made). */
export class FileNotFoundError extends Error {
  constructor(readonly fileId: string) {
    super(`No file with id '${fileId}'.`);
    this.name = 'FileNotFoundError';
  }
}
