/**
 * `/v1/files` (OpenAI Files API, for batch input and output): upload, list, retrieve, download, delete;
 * tenant-scoped (another tenant's file ids answer 404; the operator reaches them with `?tenant=`).
 */
import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import { FileRejectedError } from '../../store/file-errors';
import type { FileRecord, FileStore } from '../../store/file-store';
import { badRequest, HttpError, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { actingTenant } from '../middleware/tenant-scope';
import { receiveUpload } from '../multipart-upload';

/** The OpenAI file object. `status` is always `processed`: a file is visible only once validated and stored. */
export function toFileObject(file: FileRecord) {
  return {
    id: file.id, object: 'file', bytes: file.bytes, created_at: Math.floor(file.createdAt.getTime() / 1000),
    expires_at: file.expiresAt ? Math.floor(file.expiresAt.getTime() / 1000) : null, filename: file.filename, purpose: file.purpose,
    status: 'processed', status_details: null,
  };
}

/** Multipart framing around the file is small; a body far beyond the limit is refused before it is read. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const fileNotFound = (id: string) => notFound(`No such File object: ${id}`, 'file_id');

function fromStoreError(error: unknown): unknown {
  if (!(error instanceof FileRejectedError)) return error;
  return error.reason === 'too_large' ? new HttpError(413, error.message, error.code, 'file') : new HttpError(400, error.message, error.code, 'file');
}

function listQuery(request: Request) {
  const { purpose, after, limit, order } = request.query;
  if (purpose !== undefined && typeof purpose !== 'string') throw badRequest('purpose must be a string.', 'purpose');
  if (after !== undefined && typeof after !== 'string') throw badRequest('after must be a file id.', 'after');
  const parsedLimit = limit === undefined ? undefined : Number(limit);
  if (parsedLimit !== undefined && (!Number.isInteger(parsedLimit) || parsedLimit < 1 || parsedLimit > 10_000)) {
    throw badRequest('limit must be an integer from 1 to 10000.', 'limit');
  }
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw badRequest("order must be 'asc' or 'desc'.", 'order');
  return { purpose, after, limit: parsedLimit, order: order as 'asc' | 'desc' | undefined };
}

/**
 * RFC 6266: an ASCII `filename` for old clients and the exact name as UTF-8 in `filename*`, so a
 * non-Latin-1 name can never make an invalid header.
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent((filename as unknown as { toWellFormed(): string }).toWellFormed()).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function fileRoutes(files: FileStore): Router {
  const router = Router();
  router.use('/files', requireScope('inference'));

  router.post('/files', async (request, response) => {
    const declared = Number(request.get('content-length'));
    if (declared > files.limits.maxBytes + MULTIPART_OVERHEAD_BYTES) {
      response.set('connection', 'close');
      throw new HttpError(413, `The file is larger than the ${files.limits.maxBytes} byte limit.`, 'file_too_large', 'file');
    }
    if (!request.is('multipart/form-data')) {
      throw badRequest('Upload files as multipart/form-data with the fields `file` and `purpose`.', 'file');
    }
    try {
      const file = await receiveUpload(request, files, request.principal!.tenantId);
      response.json(toFileObject(file));
    } catch (error) {
      throw fromStoreError(error);
    }
  });

  router.get('/files', async (request, response) => {
    const { data, hasMore } = await files.list(actingTenant(request), listQuery(request));
    response.json({ object: 'list', data: data.map(toFileObject), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });
  });

  router.get('/files/:id', async (request, response) => {
    const file = await files.get(actingTenant(request), request.params.id);
    if (!file) throw fileNotFound(request.params.id);
    response.json(toFileObject(file));
  });

  router.get('/files/:id/content', async (request, response) => {
    const opened = await files.openContent(actingTenant(request), request.params.id);
    if (!opened) throw fileNotFound(request.params.id);
    const { file, stream } = opened;
    response.status(200).set({
      'content-type': 'application/octet-stream',
      'content-disposition': contentDisposition(file.filename),
      // Stored files know their length; a batch result file is rendered as it streams.
      ...(file.batchId ? {} : { 'content-length': String(file.bytes) }),
    });
    try {
      await pipeline(stream, response);
    } catch (error) {
      // The client went away mid-download: nothing to answer, nothing to log.
      if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' && request.destroyed) return;
      throw error;
    }
  });

  router.delete('/files/:id', async (request, response) => {
    if (!(await files.delete(actingTenant(request), request.params.id))) throw fileNotFound(request.params.id);
    response.json({ id: request.params.id, object: 'file', deleted: true });
  });

  return router;
}
