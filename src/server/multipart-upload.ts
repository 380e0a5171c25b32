/**
 * Reads a `POST /v1/files` multipart form with busboy and streams its `file` part straight into
 * FileStore.create: the file is never held whole. The form's fields may come before or after the file
 * (the OpenAI SDKs send them in the caller's key order), so the file is stored as it arrives and only
 * made visible once the whole form has been read and its fields checked (FileStore's beforeCommit).
 */
import type { Request } from 'express';
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import { FILENAME_MAX_LENGTH } from '../contract/limits';
import type { FileRecord, FileStore } from '../store/file-store';
import { badRequest, type HttpError } from './errors';

/** The purposes Zumik accepts for upload (it only runs batches). */
export const UPLOAD_PURPOSES = ['batch'] as const;

const EXPIRES_MIN_SECONDS = 3600;
const EXPIRES_MAX_SECONDS = 30 * 24 * 3600;

interface Fields {
  purpose?: string;
  anchor?: string;
  seconds?: string;
}

/** Parse the form and store its file for `tenantId`; rejects with an HttpError naming the bad field. */
export function receiveUpload(request: Request, files: FileStore, tenantId: string): Promise<FileRecord> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // Filenames in the form are UTF-8 (as browsers and the SDKs send them), not busboy's default Latin-1.
      parser = busboy({ headers: request.headers, defParamCharset: 'utf8', limits: { files: 1, fields: 20, fieldSize: 4096, parts: 25, fieldNameSize: 100 } });
    } catch {
      reject(badRequest('The body must be multipart/form-data with the fields `file` and `purpose`.', 'file'));
      return;
    }
    const fields: Fields = {};
    let upload: Promise<FileRecord> | undefined;
    let fileStream: Readable | undefined;
    let settled = false;
    let formEnded: () => void = () => undefined;
    let formFailed: (error: Error) => void = () => undefined;
    const formDone = new Promise<void>((resolveForm, rejectForm) => { formEnded = resolveForm; formFailed = rejectForm; });
    formDone.catch(() => undefined);

    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      formFailed(error);
      request.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => undefined);
      if (fileStream && !fileStream.destroyed) fileStream.destroy(error);
      // Read (and drop) what the client is still sending, so it gets the answer and the connection stays usable.
      request.resume();
      // Answer once a started upload has been discarded, so nothing of it is visible after the 4xx.
      if (upload) void upload.then(() => reject(error), () => reject(error));
      else reject(error);
    };

    parser.on('field', (name, value) => {
      if (name === 'purpose') {
        fields.purpose = value;
        const problem = purposeProblem(value);
        if (problem) fail(problem);
      } else if (name === 'expires_after[anchor]') fields.anchor = value;
      else if (name === 'expires_after[seconds]') fields.seconds = value;
    });

    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        fail(badRequest(`Unexpected file field '${name}': upload the file in the field \`file\`.`, 'file'));
        return;
      }
      fileStream = stream;
      // FileStore reads the stream (and sees its errors); this keeps a late destroy from being an unhandled 'error'.
      stream.on('error', () => undefined);
      upload = files.create({
        tenantId, filename: storedFilename(info.filename), purpose: 'batch', source: stream,
        beforeCommit: async () => {
          await formDone;
          const problem = fields.purpose === undefined ? badRequest("Missing required parameter: 'purpose'.", 'purpose') : purposeProblem(fields.purpose);
          if (problem) throw problem;
          return fields.seconds === undefined ? {} : { expiresAfterSeconds: Number(fields.seconds) };
        },
      });
      upload.then((file) => {
        if (settled) return;
        settled = true;
        resolve(file);
      }, (error: Error) => fail(error));
    });

    parser.on('filesLimit', () => fail(badRequest('Upload exactly one file, in the field `file`.', 'file')));
    parser.on('fieldsLimit', () => fail(badRequest('Too many form fields.', null)));
    parser.on('partsLimit', () => fail(badRequest('Too many form parts.', null)));
    parser.on('error', (error: Error) => fail(badRequest(`The multipart body could not be read: ${error.message}.`, 'file')));
    parser.on('close', () => {
      if (!upload) {
        fail(fields.purpose === undefined && fields.anchor === undefined && fields.seconds === undefined
          ? badRequest("Missing required parameters: 'file' and 'purpose'.", 'file')
          : badRequest("Missing required parameter: 'file'.", 'file'));
        return;
      }
      const expiry = expiryProblem(fields);
      if (expiry) fail(expiry);
      else formEnded();
    });
    request.on('close', () => {
      if (!request.complete) fail(badRequest('The upload was aborted before the form ended.', 'file'));
    });
    request.pipe(parser);
  });
}

/**
 * The filename as stored: any Unicode is kept (it is served back RFC 6266-encoded), but control
 * characters (NUL cannot even be stored) and broken surrogates are replaced, and it is cut to length.
 */
export function storedFilename(given: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = (given ?? '').replace(/[\u0000-\u001f\u007f]/g, '_');
  const wellFormed = (cleaned as unknown as { toWellFormed(): string }).toWellFormed();
  return Array.from(wellFormed).slice(0, FILENAME_MAX_LENGTH).join('') || 'upload.jsonl';
}

function purposeProblem(purpose: string): HttpError | undefined {
  if ((UPLOAD_PURPOSES as readonly string[]).includes(purpose)) return undefined;
  return badRequest(`'${purpose}' is not a supported purpose: Zumik accepts ${UPLOAD_PURPOSES.map((value) => `'${value}'`).join(', ')}.`, 'purpose');
}

function expiryProblem(fields: Fields): HttpError | undefined {
  if (fields.anchor === undefined && fields.seconds === undefined) return undefined;
  if (fields.anchor !== 'created_at') return badRequest("expires_after.anchor must be 'created_at'.", 'expires_after.anchor');
  const seconds = Number(fields.seconds);
  if (!Number.isInteger(seconds) || seconds < EXPIRES_MIN_SECONDS || seconds > EXPIRES_MAX_SECONDS) {
    return badRequest(`expires_after.seconds must be an integer from ${EXPIRES_MIN_SECONDS} to ${EXPIRES_MAX_SECONDS}.`, 'expires_after.seconds');
  }
  return undefined;
}
