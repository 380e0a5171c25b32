import OpenAI, { AuthenticationError, RateLimitError } from 'openai';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';

const API_KEY = 'sk-emulator-fidelity';

/** The official SDK is the judge of the emulator's wire format: if it parses, real clients do too. */
describe('OpenAICompatibleEmulator', () => {
  let emulator: OpenAICompatibleEmulator;
  let client: OpenAI;

  beforeAll(async () => {
    emulator = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: API_KEY, models: ['gpt-4.1-nano'] }).start();
    client = new OpenAI({ baseURL: `${emulator.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });
  afterAll(async () => { await emulator.close(); });
  afterEach(() => { emulator.reset(); emulator.resetReply(); });

  it('serves a plain completion the openai SDK parses, with usage and the served tier', async () => {
    emulator.setReply({ promptTokens: 2048, cachedTokens: 1024, completionTokens: 7, reasoningTokens: 3 });

    const completion = await client.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'hi' }], service_tier: 'priority' });

    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from the emulator.');
    expect(completion.service_tier).toBe('priority');
    expect(completion.usage).toMatchObject({ prompt_tokens: 2048, completion_tokens: 10, total_tokens: 2058,
      prompt_tokens_details: { cached_tokens: 1024 }, completion_tokens_details: { reasoning_tokens: 3 } });
  });

  it('streams tool calls that the SDK’s stream helper assembles, with the usage chunk last', async () => {
    emulator.setReply({ text: '', toolCalls: [{ name: 'weather', arguments: '{"location":"San Francisco"}' }, { name: 'time', arguments: '{"zone":"PST"}' }] });

    const stream = client.chat.completions.stream({
      model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'weather?' }], stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }, { type: 'function', function: { name: 'time', parameters: { type: 'object' } } }],
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    stream.on('chunk', (chunk) => chunks.push(chunk));
    const final = await stream.finalChatCompletion();

    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((call) => call.type === 'function' && [call.function.name, call.function.arguments])).toEqual([
      ['weather', '{"location":"San Francisco"}'], ['time', '{"zone":"PST"}'],
    ]);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 16 } });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null && typeof (chunk as { obfuscation?: string }).obfuscation === 'string')).toBe(true);
  });

  it('lists models', async () => {
    const models = await client.models.list();

    expect(models.data.map((model) => [model.id, model.owned_by])).toEqual([['gpt-4.1-nano', 'openai']]);
  });

  it('answers a wrong key with OpenAI’s 401 body, which the SDK raises as AuthenticationError', async () => {
    const wrong = new OpenAI({ baseURL: `${emulator.url}/v1`, apiKey: 'sk-not-the-key', maxRetries: 0 });

    const error = await wrong.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
  });

  it('answers a scripted 429 with Retry-After, which the SDK raises as RateLimitError', async () => {
    emulator.inject({ kind: 'status', status: 429, retryAfterSeconds: 1 });

    const error = await client.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers?.get('retry-after')).toBe('1');
  });

  it('records what it received and rejects max_tokens for a reasoning model as OpenAI does', async () => {
    const error = await client.chat.completions.create({ model: 'o3-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'max_tokens' });
    expect(emulator.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'o3-mini', max_tokens: 10 } });
  });
});
