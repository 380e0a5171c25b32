import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { UPSTREAM_RESPONSE_MAX_BYTES } from '../../src/contract/limits';
import { OpenAICompatibleAdapter } from '../../src/providers/openai-compatible/openai-compatible-adapter';
import { readSseEvents } from '../../src/providers/sse-reader';
import { createUpstreamDispatcher, readBodyText, sendUpstream } from '../../src/providers/upstream-http';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { captureProviderError } from '../support/provider-test-helpers';

/** A real loopback server answering each path with a scripted body (chunked unless a length is sent). */
async function startUpstream(bodies: Record<string, { chunks: string[]; length?: boolean; type?: string }>) {
  const server = http.createServer(async (request, response) => {
    const body = bodies[request.url!]!;
    response.writeHead(200, { 'content-type': body.type ?? 'application/json',
      ...(body.length ? { 'content-length': String(Buffer.byteLength(body.chunks.join(''))) } : {}) });
    for (const chunk of body.chunks) {
      response.write(chunk);
      // Spaced out like a real stream, so the reader sees separate chunks.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('upstream answer size limits', () => {
  let dispatcher: Dispatcher;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    dispatcher = createUpstreamDispatcher();
    upstream = await startUpstream({
      '/small': { chunks: ['{"ok":true}'], length: true },
      '/declared-big': { chunks: ['x'.repeat(4096)], length: true },
      '/chunked-big': { chunks: Array.from({ length: 8 }, () => 'y'.repeat(512)) },
      '/sse-many': { chunks: Array.from({ length: 50 }, (_, index) => `data: {"n":${index}}\n\n`), type: 'text/event-stream' },
      '/sse-endless-line': { chunks: ['data: {"n":0}\n\n', ...Array.from({ length: 10 }, () => 'z'.repeat(512))], type: 'text/event-stream' },
    });
  });
  afterAll(async () => { await upstream.close(); await dispatcher.destroy(); });
  const get = (path: string) => sendUpstream({ provider: 'test', url: `${upstream.url}${path}`, method: 'GET', headers: {}, dispatcher });

  describe('readBodyText', () => {
    it('reads an answer within the limit', async () => {
      expect(await readBodyText(await get('/small'), 'test', undefined, 1024)).toBe('{"ok":true}');
    });

    it('refuses an answer whose content-length is over the limit without reading it', async () => {
      expect(await captureProviderError(readBodyText(await get('/declared-big'), 'test', undefined, 1024)))
        .toMatchObject({ kind: 'response_too_large', retryable: false, status: 200 });
    });

    it('stops reading a chunked answer at the byte that crosses the limit', async () => {
      expect(await captureProviderError(readBodyText(await get('/chunked-big'), 'test', undefined, 1024)))
        .toMatchObject({ kind: 'response_too_large', message: 'test: the answer is larger than the 1024 byte limit' });
    });
  });

  describe('readSseEvents', () => {
    const read = async (path: string, limits: { maxBytes?: number; maxEventBytes?: number }) => {
      const events: string[] = [];
      const error = await captureProviderError((async () => {
        for await (const event of readSseEvents(await get(path), 'test', limits)) events.push(event.data);
      })());
      return { events, error };
    };

    it('ends a stream whose bytes in all pass the limit with response_too_large, after the events before it', async () => {
      const { events, error } = await read('/sse-many', { maxBytes: 200 });
      expect(error.kind).toBe('response_too_large');
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThan(50);
    });

    it('ends a stream that sends an endless event with response_too_large', async () => {
      const { events, error } = await read('/sse-endless-line', { maxEventBytes: 2048 });
      expect(events).toEqual(['{"n":0}']);
      expect(error.kind).toBe('response_too_large');
    });
  });

  describe('OpenAICompatibleAdapter', () => {
    it('fails an answer over UPSTREAM_RESPONSE_MAX_BYTES as response_too_large (failover, no retry), not by exhausting memory', async () => {
      const emulator = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: 'k' }).start();
      try {
        emulator.setReply({ text: 'w'.repeat(UPSTREAM_RESPONSE_MAX_BYTES + 1) });
        const adapter = new OpenAICompatibleAdapter({ provider: 'openai', flavour: 'openai', baseUrl: emulator.baseUrl, dispatcher });
        const error = await captureProviderError(adapter.generate({ messages: [{ role: 'user', content: 'hi' }] }, { model: 'gpt-4.1-nano', credential: { apiKey: 'k' } }));
        expect(error).toMatchObject({ kind: 'response_too_large', provider: 'openai', retryable: false, failover: true });
      } finally {
        await emulator.close();
      }
    });
  });
});
