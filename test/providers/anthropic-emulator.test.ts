/**
 * Fidelity of the Anthropic emulator: the official SDK, pointed at it, creates and streams messages
 * and parses them, and gets its own error classes for Anthropic's error answers.
 */
import Anthropic, { APIError, AuthenticationError, BadRequestError, OverloadedError } from '@anthropic-ai/sdk';
import { AnthropicEmulator, EMULATED_MODELS } from '../emulators/anthropic-emulator';

const API_KEY = 'sk-ant-emulator-test-key';
const MODEL = 'claude-opus-4-8';
const weather = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

let emulator: AnthropicEmulator;
let client: Anthropic;

beforeAll(async () => {
  emulator = await new AnthropicEmulator({ apiKey: API_KEY }).start();
  client = new Anthropic({ baseURL: emulator.url, apiKey: API_KEY, maxRetries: 0 });
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

describe('AnthropicEmulator', () => {
  describe('POST /v1/messages', () => {
    it('answers a message the official SDK parses', async () => {
      emulator.setReply({ text: 'Hello, SDK.' });
      const message = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
      expect(message).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', content: [{ type: 'text', text: 'Hello, SDK.' }] });
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.service_tier).toBe('standard');
    });

    it('answers tool use the SDK parses', async () => {
      emulator.setReply({ text: 'Checking.', toolUses: [{ id: 'toolu_sdk', name: 'get_weather', input: { city: 'Paris' } }] });
      const message = await client.messages.create({ model: MODEL, max_tokens: 64, tools: [weather], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content[1]).toEqual({ type: 'tool_use', id: 'toolu_sdk', name: 'get_weather', input: { city: 'Paris' } });
    });

    it('streams text, thinking and tool use that the SDK assembles into a final message', async () => {
      emulator.setReply({ thinking: 'The user wants weather.', text: 'Let me check.', toolUses: [{ id: 'toolu_stream', name: 'get_weather', input: { city: 'Rome', days: 3 } }], chunkSize: 3 });
      const stream = client.messages.stream({ model: MODEL, max_tokens: 256, tools: [weather], messages: [{ role: 'user', content: 'Weather in Rome?' }] });
      let streamedText = '';
      stream.on('text', (delta) => { streamedText += delta; });
      const message = await stream.finalMessage();
      expect(streamedText).toBe('Let me check.');
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([
        expect.objectContaining({ type: 'thinking', thinking: 'The user wants weather.', signature: expect.any(String) }),
        expect.objectContaining({ type: 'text', text: 'Let me check.' }),
        expect.objectContaining({ type: 'tool_use', id: 'toolu_stream', name: 'get_weather', input: { city: 'Rome', days: 3 } }),
      ]);
      expect(message.usage.output_tokens).toBeGreaterThan(1);
    });

    it('streams a refusal with its stop details', async () => {
      emulator.setReply({ refusal: { category: 'cyber', explanation: 'Blocked under the Usage Policy.' } });
      const message = await client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Bad request' }] }).finalMessage();
      expect(message.stop_reason).toBe('refusal');
      expect(message.stop_details).toMatchObject({ type: 'refusal', category: 'cyber', explanation: 'Blocked under the Usage Policy.' });
      expect(message.content).toEqual([]);
    });

    it('reports cache creation on the first sight of a marked prefix and a cache read on the repeat', async () => {
      const system = [{ type: 'text' as const, text: `Handbook ${'section '.repeat(1200)}`, cache_control: { type: 'ephemeral' as const } }];
      const first = await client.messages.create({ model: MODEL, max_tokens: 64, system, messages: [{ role: 'user', content: 'One' }] });
      const second = await client.messages.create({ model: MODEL, max_tokens: 64, system, messages: [{ role: 'user', content: 'Two' }] });
      expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(1024);
      expect(first.usage.cache_read_input_tokens).toBe(0);
      expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
      expect(second.usage.cache_creation_input_tokens).toBe(0);
    });

    it('does not cache a marked prefix shorter than the minimum', async () => {
      const system = [{ type: 'text' as const, text: 'Short', cache_control: { type: 'ephemeral' as const } }];
      await client.messages.create({ model: MODEL, max_tokens: 64, system, messages: [{ role: 'user', content: 'One' }] });
      const second = await client.messages.create({ model: MODEL, max_tokens: 64, system, messages: [{ role: 'user', content: 'One' }] });
      expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    });

    it("gives a wrong key the SDK's AuthenticationError", async () => {
      const wrong = new Anthropic({ baseURL: emulator.url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
      const error = await wrong.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, type: 'authentication_error', requestID: expect.stringMatching(/^req_/) });
    });

    it('rejects a body without max_tokens as Anthropic does', async () => {
      const body = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
      const error = await client.messages.create(body).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error).toMatchObject({ type: 'invalid_request_error', apiMessage: 'max_tokens: Field required' });
    });

    it('rejects a fifth cache breakpoint', async () => {
      const content = Array.from({ length: 5 }, (_unused, index) => ({ type: 'text' as const, text: `p${index}`, cache_control: { type: 'ephemeral' as const } }));
      const error = await client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content }] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BadRequestError);
    });

    it('answers 400 when anthropic-version is missing', async () => {
      const response = await fetch(`${emulator.url}/v1/messages`, {
        method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
    });

    it("gives a 529 the SDK's OverloadedError", async () => {
      emulator.inject({ kind: 'status', status: 529 });
      const error = await client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OverloadedError);
      expect(error).toMatchObject({ status: 529, type: 'overloaded_error' });
    });

    it('sends a mid-stream error event the SDK raises with its type', async () => {
      emulator.setReply({ text: 'Partial answer here', streamError: { afterEvents: 4, type: 'overloaded_error' } });
      const error = await client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(APIError);
      expect(error).toMatchObject({ type: 'overloaded_error' });
    });

    it('sends request-id and anthropic-ratelimit-* headers', async () => {
      const { response } = await client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(response.headers.get('request-id')).toMatch(/^req_/);
      expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('3999');
      expect(Date.parse(response.headers.get('anthropic-ratelimit-tokens-reset')!)).toBeGreaterThan(Date.now());
    });
  });

  describe('GET /v1/models', () => {
    it('lists models the SDK pages through', async () => {
      const ids: string[] = [];
      for await (const model of client.models.list()) ids.push(model.id);
      expect(ids).toEqual(EMULATED_MODELS);
    });
  });
});
