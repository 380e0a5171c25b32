/**
 * The response cache at the front door (issue 14): the request's cache headers, the answer replayed
 * from an entry (JSON, or a stream's chunks as OpenAI SSE), and an answer kept after it was sent.
 * The body's `id` of a replay is the new request's id, as for any answer.
 */
import type { Request, Response } from 'express';
import { CACHE_MODES, type CacheMode } from '../domain/response-cache';
import { MAX_CACHE_TTL_SECONDS } from '../domain/tenant-policy';
import type { RequestOutcome } from '../domain/request-outcome';
import type { CachedAnswer } from '../store/response-cache-store';
import { badRequest } from './errors';
import { outcomeComment, outcomeHeaders } from './outcome-http';

/** `x-zumik-cache` and `x-zumik-cache-ttl`, validated (a bad value is a 400 naming the header). */
export function cacheHeaders(request: Request): { mode?: CacheMode; ttlSeconds?: number } {
  const mode = request.get('x-zumik-cache');
  const ttl = request.get('x-zumik-cache-ttl');
  const parsed: { mode?: CacheMode; ttlSeconds?: number } = {};
  if (mode !== undefined) {
    const value = mode.trim().toLowerCase();
    if (!(CACHE_MODES as readonly string[]).includes(value)) throw badRequest(`x-zumik-cache must be one of ${CACHE_MODES.join(', ')}`, 'x-zumik-cache');
    parsed.mode = value as CacheMode;
  }
  if (ttl !== undefined) {
    const seconds = Number(ttl);
    if (!/^\d+$/.test(ttl.trim()) || seconds < 1 || seconds > MAX_CACHE_TTL_SECONDS) {
      throw badRequest(`x-zumik-cache-ttl must be an integer number of seconds between 1 and ${MAX_CACHE_TTL_SECONDS}`, 'x-zumik-cache-ttl');
    }
    parsed.ttlSeconds = seconds;
  }
  return parsed;
}

/** Send a cached answer: JSON (the /v2 body adds the outcome), or the stream's chunks as SSE ending with the outcome comment and `[DONE]`. */
export function replayCached(response: Response, answer: CachedAnswer, outcome: RequestOutcome, surface: 'v1' | 'v2'): void {
  const headers = { ...outcomeHeaders(outcome), 'x-zumik-cache': 'hit' };
  if (answer.kind === 'json') {
    const body = { ...answer.body, id: outcome.id };
    response.status(200).set(headers).json(surface === 'v2' ? { ...body, zumik: outcome } : body);
    return;
  }
  response.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  let text = '';
  for (const chunk of answer.chunks) text += `data: ${JSON.stringify({ ...chunk, id: outcome.id })}\n\n`;
  text += outcomeComment(outcome);
  if (surface === 'v2') text += `event: zumik.outcome\ndata: ${JSON.stringify(outcome)}\n\n`;
  response.end(`${text}data: [DONE]\n\n`);
}
