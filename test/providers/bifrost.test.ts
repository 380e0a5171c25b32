/**
 * The Bifrost data plane below the workflow: the providers file's `bifrost` entry, the directory's
 * Bifrost adapter (flavour `bifrost`) against the emulator's `bifrost` flavour — virtual key in
 * `x-bf-vk`, `provider/model` names, the answer's model without the prefix, Bifrost's error envelope
 * in the failure taxonomy — and the emulator's own refusals.
 */
import { ProviderDirectory, UnknownProviderError } from '../../src/providers/provider-directory';
import { parseProvidersFile, ProvidersFileError } from '../../src/providers/providers-file';
import { ProviderError } from '../../src/providers/provider-error';
import { canEmbed, type ProviderCallOptions } from '../../src/providers/types';
import type { ChatRequest } from '../../src/contract/chat';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { collectParts } from '../support/provider-test-helpers';

const VIRTUAL_KEY = 'sk-bf-unit-virtual-key-0001';
const HELLO: ChatRequest = { messages: [{ role: 'user', content: 'Say hello.' }] };
const options = (model: string, apiKey = VIRTUAL_KEY, extra: Partial<ProviderCallOptions> = {}): ProviderCallOptions =>
  ({ model, credential: { apiKey }, ...extra });

describe('providers file: bifrost', () => {
  it('accepts a deployment with the managed providers it serves', () => {
    const file = parseProvidersFile({ bifrost: { baseUrl: 'https://bifrost.test/v1', providers: ['openai', 'anthropic'] } });
    expect(file.bifrost).toEqual({ baseUrl: 'https://bifrost.test/v1', providers: ['openai', 'anthropic'] });
  });

  it('names the bad field: an unknown or bridged provider, an empty list, a bad URL, a stray key', () => {
    expect(() => parseProvidersFile({ bifrost: { baseUrl: 'https://b.test/v1', providers: ['mistral'] } })).toThrow(/bifrost\.providers\.0/);
    expect(() => parseProvidersFile({ bifrost: { baseUrl: 'https://b.test/v1', providers: ['openrouter'] } })).toThrow(/bifrost\.providers\.0/);
    expect(() => parseProvidersFile({ bifrost: { baseUrl: 'https://b.test/v1', providers: [] } })).toThrow(/bifrost\.providers/);
    expect(() => parseProvidersFile({ bifrost: { baseUrl: 'nope', providers: ['openai'] } })).toThrow(/bifrost\.baseUrl/);
    expect(() => parseProvidersFile({ bifrost: { baseUrl: 'https://b.test/v1', providers: ['openai'], virtualKey: 'sk' } })).toThrow(/virtualKey/);
  });

  it('needs a base URL from the file or ZUMIK_BIFROST_URL, and the environment wins', () => {
    const file = parseProvidersFile({ bifrost: { providers: ['openai'] } });
    expect(() => new ProviderDirectory({ file })).toThrow(ProvidersFileError);
    expect(() => new ProviderDirectory({ file })).toThrow(/ZUMIK_BIFROST_URL/);
    const directory = new ProviderDirectory({ file, bifrostUrl: 'https://bifrost.env.test/v1' });
    expect(directory.viaBifrost('openai')).toBe(true);
    expect(directory.viaBifrost('anthropic')).toBe(false);
    expect(() => directory.bifrostAdapter('anthropic')).toThrow(UnknownProviderError);
    expect(new ProviderDirectory().viaBifrost('openai')).toBe(false);
  });
});

describe('the Bifrost adapter against the Bifrost emulator', () => {
  let bifrost: OpenAICompatibleEmulator;
  let directory: ProviderDirectory;
  beforeAll(async () => {
    bifrost = await new OpenAICompatibleEmulator({ flavour: 'bifrost', apiKey: VIRTUAL_KEY }).start();
    directory = new ProviderDirectory({ file: parseProvidersFile({ bifrost: { baseUrl: bifrost.baseUrl, providers: ['openai', 'anthropic'] } }) });
  });
  afterAll(async () => {
    await directory.close();
    await bifrost.close();
  });
  beforeEach(() => { bifrost.reset(); bifrost.resetReply(); });

  it('sends the virtual key in x-bf-vk (no Authorization, a caller x-bf-vk dropped) and provider/model, and records the provider\'s model', async () => {
    const result = await directory.bifrostAdapter('anthropic').generate(HELLO,
      options('claude-haiku-4-5', VIRTUAL_KEY, { headers: { 'x-bf-vk': 'caller-supplied', authorization: 'Bearer caller' } }));

    expect(result.choices[0]?.message.content).toBe('Hello from the emulator.');
    expect(result.model).toBe('claude-haiku-4-5');
    const request = bifrost.requests[0]!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers['x-bf-vk']).toBe(VIRTUAL_KEY);
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body).toMatchObject({ model: 'anthropic/claude-haiku-4-5' });
  });

  it('streams through Bifrost the same way', async () => {
    const parts = await collectParts(directory.bifrostAdapter('openai').stream(HELLO, options('gpt-4o-mini')));

    expect(parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('')).toBe('Hello from the emulator.');
    expect(parts.at(-1)).toEqual({ type: 'stream-end' });
    expect(bifrost.requests[0]?.body).toMatchObject({ model: 'openai/gpt-4o-mini', stream: true });
    expect(bifrost.requests[0]?.headers['x-bf-vk']).toBe(VIRTUAL_KEY);
  });

  it('embeds through Bifrost with provider/model and the virtual key', async () => {
    const adapter = directory.bifrostAdapter('openai');
    if (!canEmbed(adapter)) throw new Error('the Bifrost adapter should embed');
    const result = await adapter.embed({ model: 'text-embedding-3-small', input: ['a', 'b'] }, options('text-embedding-3-small'));

    expect(result.vectors).toHaveLength(2);
    expect(bifrost.requests[0]?.body).toMatchObject({ model: 'openai/text-embedding-3-small' });
    expect(bifrost.requests[0]?.headers['x-bf-vk']).toBe(VIRTUAL_KEY);
  });

  it.each([
    ['a wrong virtual key', 'sk-bf-wrong', undefined, 'auth', 401],
    ['a missing virtual key', '', undefined, 'auth', 401],
    ['a spent budget', VIRTUAL_KEY, 402, 'quota', 402],
    ['a rate limit', VIRTUAL_KEY, 429, 'rate_limit', 429],
    ['an upstream outage', VIRTUAL_KEY, 503, 'upstream_unavailable', 503],
  ] as const)('maps %s to the failure taxonomy under the real provider, never echoing the key', async (_case, key, status, kind, httpStatus) => {
    if (status !== undefined) bifrost.inject({ kind: 'status', status });
    const error = await directory.bifrostAdapter('openai').generate(HELLO, options('gpt-4o-mini', key)).then(() => undefined, (thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind, provider: 'openai', status: httpStatus });
    if (key) expect(JSON.stringify(error) + (error as Error).message).not.toContain(key);
  });

  it('the emulator refuses a model without a provider prefix in Bifrost\'s envelope', async () => {
    const response = await fetch(`${bifrost.baseUrl}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-bf-vk': VIRTUAL_KEY },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: HELLO.messages }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ is_bifrost_error: true, status_code: 400, error: { type: 'invalid_request_error', message: expect.stringContaining('provider/model') } });
  });

  it('the emulator answers a missing virtual key with Bifrost\'s 401, and ignores an Authorization bearer', async () => {
    const response = await fetch(`${bifrost.baseUrl}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${VIRTUAL_KEY}` },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: HELLO.messages }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ is_bifrost_error: true, status_code: 401, error: { type: 'virtual_key_required', message: expect.stringContaining('x-bf-vk') } });
  });
});
