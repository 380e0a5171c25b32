/**
 * `POST /v2/codec/encode` and `/v2/codec/decode`: Temporal's remote codec protocol, so that an
 * operator's tools show the decrypted payloads of histories Zumik encrypted (the Temporal CLI with
 * `--codec-endpoint <zumik>/v2/codec --codec-auth "Bearer <admin key>"`, or a Temporal UI given the
 * endpoint). Body and answer: `{"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}`.
 * Operators only (`operator` scope): a decoded payload is a tenant's prompt or answer. Browsers may call
 * it from the configured Temporal UI origins (CORS), with the key in `Authorization`.
 */
import { Router, type RequestHandler } from 'express';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { badRequest } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';

export interface CodecRouteDeps {
  codec: { encode(payloads: Payload[]): Promise<Payload[]>; decode(payloads: Payload[]): Promise<Payload[]> };
  /** Origins (e.g. the Temporal UI's) allowed to call the codec from a browser. */
  corsOrigins: string[];
}

const base64 = z.string().max(16 * 1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const codecBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }).strict()).max(10_000),
}).strict();

const MAX_PAYLOADS_BYTES = 32 * 1024 * 1024;

/** CORS for the codec paths: the browser-based UI sends a preflight before each POST. */
export function codecCors(corsOrigins: string[]): RequestHandler {
  const allowed = new Set(corsOrigins.map((origin) => origin.replace(/\/+$/, '')));
  return (request, response, next) => {
    const origin = request.get('origin');
    if (origin && allowed.has(origin)) {
      response.set({
        'access-control-allow-origin': origin, vary: 'Origin', 'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type, x-namespace', 'access-control-allow-credentials': 'true',
        'access-control-max-age': '600',
      });
    }
    if (request.method === 'OPTIONS') {
      response.status(204).end();
      return;
    }
    next();
  };
}

export function codecRoutes(deps: CodecRouteDeps): Router {
  const router = Router();
  const handle = (direction: 'encode' | 'decode'): RequestHandler => async (request, response) => {
    const body = parseBody(codecBody, request.body);
    const bytes = body.payloads.reduce((sum, payload) => sum + (payload.data?.length ?? 0), 0);
    if (bytes > MAX_PAYLOADS_BYTES) throw badRequest(`payloads: more than ${MAX_PAYLOADS_BYTES} bytes of base64 in one call`, 'payloads');
    const payloads: Payload[] = body.payloads.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
      data: Buffer.from(payload.data ?? '', 'base64'),
    }));
    let converted: Payload[];
    try {
      converted = direction === 'encode' ? await deps.codec.encode(payloads) : await deps.codec.decode(payloads);
    } catch (error) {
      throw badRequest(`payloads: ${(error as Error).message}`, 'payloads');
    }
    response.json({
      payloads: converted.map((payload) => ({
        metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
        data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
      })),
    });
  };
  router.post('/codec/encode', requireScope('operator'), handle('encode'));
  router.post('/codec/decode', requireScope('operator'), handle('decode'));
  return router;
}
