import type { Dispatcher } from 'undici';
import { AnthropicAdapter } from '../../src/providers/anthropic/anthropic-adapter';
import type { ProviderCallOptions } from '../../src/providers/types';
import type { ChatRequest, StreamPart } from '../../src/contract/chat';
import { createUpstreamDispatcher } from '../../src/providers/upstream-http';
import { AnthropicEmulator } from '../emulators/anthropic-emulator';
import { loadAnthropicSse } from '../emulators/anthropic-fixtures';

const API_KEY = 'sk-ant-test-0123456789abcdef';
const MODEL = 'claude-haiku-4-5-20251001';
const options: ProviderCallOptions = { model: MODEL, credential: { apiKey: API_KEY } };
const weatherTool: NonNullable<ChatRequest['tools']>[number] = {
  type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

let emulator: AnthropicEmulator;
let dispatcher: Dispatcher;
let adapter: AnthropicAdapter;

beforeAll(async () => {
  emulator = await new AnthropicEmulator({ apiKey: API_KEY }).start();
  dispatcher = createUpstreamDispatcher();
  adapter = new AnthropicAdapter({ baseUrl: emulator.url, dispatcher });
});
afterEach(() => emulator.reset());
afterAll(async () => {
  await emulator.close();
  await dispatcher.close();
});

async function collect(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const collected: StreamPart[] = [];
  for await (const part of parts) collected.push(part);
  return collected;
}

describe('AnthropicAdapter', () => {
  describe('generate', () => {
    it('sends the key, the API version and the converted body to /v1/messages', async () => {
      emulator.setReply({ text: 'Bonjour !' });
      const result = await adapter.generate({ messages: [{ role: 'system', content: 'Be French.' }, { role: 'user', content: 'Hello' }], max_tokens: 100 }, options);
      const received = emulator.requests[0]!;
      expect(received.path).toBe('/v1/messages');
      expect(received.headers['x-api-key']).toBe(API_KEY);
      expect(received.headers['anthropic-version']).toBe('2023-06-01');
      expect(received.body).toMatchObject({ model: MODEL, max_tokens: 100, system: [{ type: 'text', text: 'Be French.' }], messages: [{ role: 'user' }] });
      expect(received.body).not.toHaveProperty('stream');
      expect(result.choices[0]).toMatchObject({ finish_reason: 'stop', raw_finish_reason: 'end_turn', message: { role: 'assistant', content: 'Bonjour !' } });
      expect(result.providerRequestId).toMatch(/^req_/);
      expect(result.providerResponseId).toMatch(/^msg_/);
      expect(result.serviceTier).toBe('default');
    });

    it('returns tool calls with JSON-string arguments', async () => {
      emulator.setReply({ toolUses: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] });
      const result = await adapter.generate({ messages: [{ role: 'user', content: 'Weather?' }], tools: [weatherTool], tool_choice: 'required' }, options);
      expect(emulator.messageBodies[0]).toMatchObject({ tool_choice: { type: 'any' }, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] });
      expect(result.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } });
    });

    it('reports cache writes on the first call and cache reads on the repeat', async () => {
      const request: ChatRequest = { messages: [{ role: 'system', content: `Policy: ${'rule '.repeat(2000)}` }, { role: 'user', content: 'Question one' }] };
      const first = await adapter.generate(request, options);
      const second = await adapter.generate({ ...request, messages: [request.messages[0]!, { role: 'user', content: 'Question two' }] }, options);
      expect(first.usage.prompt_tokens_details!.cache_write_tokens).toBeGreaterThan(2000);
      expect(first.usage.prompt_tokens_details!.cached_tokens).toBe(0);
      expect(second.usage.prompt_tokens_details!.cached_tokens).toBe(first.usage.prompt_tokens_details!.cache_write_tokens);
      expect(second.usage.prompt_tokens_details!.cache_write_tokens).toBe(0);
      expect(second.usage.prompt_tokens).toBeGreaterThan(second.usage.prompt_tokens_details!.cached_tokens!);
    });

    it('passes warnings for dropped parameters through to the result', async () => {
      const result = await adapter.generate({ messages: [{ role: 'user', content: 'Hi' }], seed: 3 }, options);
      expect(result.warnings).toEqual([expect.objectContaining({ setting: 'seed' })]);
    });

    it('never sends more than four breakpoints, whatever the caller marked', async () => {
      const parts = Array.from({ length: 6 }, (_unused, index) => ({ type: 'text' as const, text: `part ${index}`, cache_control: { type: 'ephemeral' as const } }));
      const result = await adapter.generate({ messages: [{ role: 'system', content: 'Rules' }, { role: 'user', content: parts }] }, options);
      expect(result.choices[0]!.finish_reason).toBe('stop');
      expect(JSON.stringify(emulator.messageBodies[0]).match(/cache_control/g)).toHaveLength(4);
    });
  });

  describe('stream', () => {
    it('streams text as deltas and ends with finish, usage and stream-end', async () => {
      emulator.setReply({ text: 'Streaming works fine.', chunkSize: 5 });
      const parts = await collect(adapter.stream({ messages: [{ role: 'user', content: 'Hi' }] }, options));
      expect(emulator.messageBodies[0]).toMatchObject({ stream: true });
      expect(parts[0]).toMatchObject({ type: 'stream-start', model: MODEL, providerRequestId: expect.stringMatching(/^req_/) });
      expect(parts.filter((part) => part.type === 'text-delta').map((part) => (part as { text: string }).text)).toEqual(['Strea', 'ming ', 'works', ' fine', '.']);
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
    });

    it('streams tool-call arguments from input_json_delta, indexed by tool call', async () => {
      emulator.setReply({ text: 'Checking both.', toolUses: [{ id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } }, { id: 'toolu_b', name: 'get_weather', input: { city: 'Rome' } }], chunkSize: 4 });
      const parts = await collect(adapter.stream({ messages: [{ role: 'user', content: 'Paris and Rome?' }], tools: [weatherTool] }, options));
      const calls = parts.filter((part) => part.type === 'tool-call-delta') as Array<Extract<StreamPart, { type: 'tool-call-delta' }>>;
      const byIndex = (index: number) => calls.filter((call) => call.toolCallIndex === index);
      expect(byIndex(0)[0]).toMatchObject({ id: 'toolu_a', name: 'get_weather' });
      expect(JSON.parse(byIndex(0).map((call) => call.argumentsDelta).join(''))).toEqual({ city: 'Paris' });
      expect(JSON.parse(byIndex(1).map((call) => call.argumentsDelta).join(''))).toEqual({ city: 'Rome' });
      expect(parts.find((part) => part.type === 'finish')).toMatchObject({ finishReason: 'tool_calls' });
    });

    it('streams reasoning and reports thinking tokens', async () => {
      emulator.setReply({ thinking: 'Two plus two is four.', text: '4', thinkingTokens: 9 });
      const parts = await collect(adapter.stream({ messages: [{ role: 'user', content: '2+2?' }] }, options));
      expect(parts.filter((part) => part.type === 'reasoning-delta').map((part) => (part as { text: string }).text).join('')).toBe('Two plus two is four.');
      expect(parts.find((part) => part.type === 'usage')).toMatchObject({ usage: { completion_tokens_details: { reasoning_tokens: 9 } } });
    });

    it('reports cache read and write tokens in the streamed usage', async () => {
      const request: ChatRequest = { messages: [{ role: 'system', content: `Handbook: ${'chapter '.repeat(1500)}` }, { role: 'user', content: 'Hi' }] };
      const usageOf = (parts: StreamPart[]) => (parts.find((part) => part.type === 'usage') as Extract<StreamPart, { type: 'usage' }>).usage;
      const first = usageOf(await collect(adapter.stream(request, options)));
      const second = usageOf(await collect(adapter.stream(request, options)));
      expect(first.prompt_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: expect.any(Number) });
      expect(first.prompt_tokens_details!.cache_write_tokens).toBeGreaterThan(1500);
      expect(second.prompt_tokens_details).toEqual({ cached_tokens: first.prompt_tokens_details!.cache_write_tokens, cache_write_tokens: 0 });
      expect(second.prompt_tokens).toBe(first.prompt_tokens);
    });

    it('parses a recorded Anthropic stream replayed byte for byte', async () => {
      emulator.setReply({ recordedEvents: loadAnthropicSse('sdk-stream-refusal.sse') });
      const parts = await collect(adapter.stream({ messages: [{ role: 'user', content: 'What is a solar eclipse, claudius?' }] }, options));
      expect(parts.find((part) => part.type === 'finish')).toMatchObject({ finishReason: 'content_filter', rawFinishReason: 'refusal' });
      expect(parts.at(-1)).toEqual({ type: 'stream-end' });
    });
  });
});
