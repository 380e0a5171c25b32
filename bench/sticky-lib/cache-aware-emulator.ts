/**
 * A cache-aware OpenAI-compatible replica for the sticky-routing bench: it keeps a prefix cache the way
 * vLLM's automatic prefix caching does — the prompt cut into blocks of BLOCK_TOKENS tokens, each block
 * keyed by the hash of everything up to its end, an LRU of `capacityBlocks` blocks — and reports the
 * blocks it found as `usage.prompt_tokens_details.cached_tokens`. Tokens are counted as 4 characters.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const CHARS_PER_TOKEN = 4;
export const BLOCK_TOKENS = 16;
const BLOCK_CHARS = BLOCK_TOKENS * CHARS_PER_TOKEN;

export class CacheAwareEmulator {
  private server?: http.Server;
  private readonly blocks = new Map<string, true>();
  promptTokens = 0;
  cachedTokens = 0;
  requests = 0;

  constructor(readonly name: string, private readonly capacityBlocks: number, private readonly apiKey: string) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  /** Empty the cache and the counters (between runs). */
  reset(): void {
    this.blocks.clear();
    this.promptTokens = 0;
    this.cachedTokens = 0;
    this.requests = 0;
  }

  async start(): Promise<this> {
    this.server = http.createServer((request, response) => { void this.handle(request, response); });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The cached prefix of a prompt in tokens (whole blocks), then the prompt's blocks cached (most recent last). */
  private lookupAndInsert(prompt: string): number {
    let cached = 0;
    let matching = true;
    const hash = createHash('sha256');
    for (let start = 0; start + BLOCK_CHARS <= prompt.length; start += BLOCK_CHARS) {
      hash.update(prompt.slice(start, start + BLOCK_CHARS));
      const key = hash.copy().digest('hex');
      if (matching && this.blocks.has(key)) cached += BLOCK_TOKENS;
      else matching = false;
      this.blocks.delete(key);
      this.blocks.set(key, true);
      if (this.blocks.size > this.capacityBlocks) this.blocks.delete(this.blocks.keys().next().value!);
    }
    return cached;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'bad key', type: 'invalid_request_error', code: 'invalid_api_key' } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; messages: Array<{ role: string; content: string }> };
    const prompt = body.messages.map((message) => `<|${message.role}|>${message.content}`).join('');
    const promptTokens = Math.ceil(prompt.length / CHARS_PER_TOKEN);
    const cachedTokens = this.lookupAndInsert(prompt);
    this.requests += 1;
    this.promptTokens += promptTokens;
    this.cachedTokens += cachedTokens;
    const content = `Answer ${this.requests} from ${this.name}: noted, continuing the discussion with the details you gave.`;
    const completionTokens = Math.ceil(content.length / CHARS_PER_TOKEN);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: `chatcmpl-${this.name}-${this.requests}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
      usage: {
        prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: cachedTokens },
      },
    }));
  }
}
