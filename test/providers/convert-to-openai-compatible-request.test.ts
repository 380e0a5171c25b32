import { convertToOpenAICompatibleRequest } from '../../src/providers/openai-compatible/convert-to-openai-compatible-request';
import { FLAVOUR_PRESETS, resolveFlavour } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import type { ChatRequest } from '../../src/contract/chat';

const REQUEST: ChatRequest = { model: 'my-alias', messages: [{ role: 'user', content: 'hi' }] };

describe('convertToOpenAICompatibleRequest', () => {
  it('replaces the alias with the target model and sets streaming fields only for streams', () => {
    const plain = convertToOpenAICompatibleRequest({ ...REQUEST, stream: true, stream_options: { include_usage: false } }, { model: 'gpt-4.1' }, FLAVOUR_PRESETS.openai, false);
    const streamed = convertToOpenAICompatibleRequest({ ...REQUEST, stream_options: { include_usage: false } }, { model: 'gpt-4.1' }, FLAVOUR_PRESETS.openai, true);

    expect(plain.body).toEqual({ model: 'gpt-4.1', messages: REQUEST.messages });
    expect(streamed.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('forwards only include_usage in stream_options to providers that do not model the rest', () => {
    const { body } = convertToOpenAICompatibleRequest({ ...REQUEST, stream_options: { include_obfuscation: false } }, { model: 'm' }, FLAVOUR_PRESETS.fireworks, true);

    expect(body.stream_options).toEqual({ include_usage: true });
  });

  it('renames the token limit into the field the flavour wants', () => {
    const openai = convertToOpenAICompatibleRequest({ ...REQUEST, max_tokens: 50 }, { model: 'gpt-4.1' }, FLAVOUR_PRESETS.openai, false);
    const byoc = convertToOpenAICompatibleRequest({ ...REQUEST, max_completion_tokens: 70 }, { model: 'llama' }, FLAVOUR_PRESETS.byoc_dynamo, false);

    expect(openai.body).toMatchObject({ max_completion_tokens: 50 });
    expect(openai.body).not.toHaveProperty('max_tokens');
    expect(byoc.body).toMatchObject({ max_tokens: 70 });
    expect(byoc.body).not.toHaveProperty('max_completion_tokens');
    expect([...openai.warnings, ...byoc.warnings]).toEqual([]);
  });

  it('drops sampling parameters for OpenAI reasoning models only, one warning each', () => {
    const sampling = { temperature: 0.3, top_p: 0.5, logprobs: true };
    const reasoning = convertToOpenAICompatibleRequest({ ...REQUEST, ...sampling }, { model: 'o3-mini' }, FLAVOUR_PRESETS.openai, false);
    const chat = convertToOpenAICompatibleRequest({ ...REQUEST, ...sampling }, { model: 'gpt-5-chat-latest' }, FLAVOUR_PRESETS.openai, false);

    expect(reasoning.body).not.toHaveProperty('temperature');
    expect(reasoning.warnings.map((warning) => [warning.type, warning.setting])).toEqual([
      ['unsupported-setting', 'temperature'], ['unsupported-setting', 'top_p'], ['unsupported-setting', 'logprobs'],
    ]);
    expect(chat.body).toMatchObject(sampling);
  });

  it('drops stop and penalties for xAI reasoning models but not for non-reasoning ones', () => {
    const extra = { stop: ['\n'], presence_penalty: 0.5 };
    const reasoning = convertToOpenAICompatibleRequest({ ...REQUEST, ...extra }, { model: 'grok-4.3' }, FLAVOUR_PRESETS.xai, false);
    const fast = convertToOpenAICompatibleRequest({ ...REQUEST, ...extra }, { model: 'grok-4-fast-non-reasoning' }, FLAVOUR_PRESETS.xai, false);

    expect(reasoning.body).not.toHaveProperty('stop');
    expect(reasoning.warnings).toHaveLength(2);
    expect(fast.body).toMatchObject(extra);
  });

  it('maps developer to system with a single warning where the provider has no developer role', () => {
    const request: ChatRequest = { messages: [{ role: 'developer', content: 'a' }, { role: 'developer', content: 'b' }, { role: 'user', content: 'c' }] };

    const fireworks = convertToOpenAICompatibleRequest(request, { model: 'm' }, FLAVOUR_PRESETS.fireworks, false);
    const openai = convertToOpenAICompatibleRequest(request, { model: 'm' }, FLAVOUR_PRESETS.openai, false);

    expect((fireworks.body.messages as Array<{ role: string }>).map((message) => message.role)).toEqual(['system', 'system', 'user']);
    expect(fireworks.warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'messages.role' })]);
    expect((openai.body.messages as Array<{ role: string }>)[0]?.role).toBe('developer');
  });

  it.each([
    ['openai', 'flex', 'flex', false], ['openai', 'fast', 'fast', false],
    ['xai', 'priority', 'priority', false], ['xai', 'default', undefined, false], ['xai', 'flex', undefined, true],
    ['fireworks', 'fast', 'priority', false], ['fireworks', 'auto', undefined, false], ['fireworks', 'scale', undefined, true],
    ['byoc_epp', 'priority', undefined, true], ['openrouter', 'auto', undefined, false],
  ] as const)('%s: service_tier %s is sent as %s (warning: %s)', (flavour, requested, sent, warned) => {
    const { body, warnings } = convertToOpenAICompatibleRequest({ ...REQUEST, service_tier: requested }, { model: 'm' }, FLAVOUR_PRESETS[flavour], false);

    expect(body.service_tier).toBe(sent);
    expect(warnings.some((warning) => warning.setting === 'service_tier')).toBe(warned);
  });

  it('strips content-part cache fields the provider does not know, warning once per field', () => {
    const request: ChatRequest = { messages: [{ role: 'user', content: [
      { type: 'text', text: 'a', prompt_cache_breakpoint: { mode: 'explicit' } },
      { type: 'text', text: 'b', prompt_cache_breakpoint: { mode: 'explicit' }, cache_control: { type: 'ephemeral' } },
    ] }] };

    const xai = convertToOpenAICompatibleRequest(request, { model: 'm' }, FLAVOUR_PRESETS.xai, false);
    const openrouter = convertToOpenAICompatibleRequest(request, { model: 'm' }, FLAVOUR_PRESETS.openrouter, false);

    expect((xai.body.messages as Array<{ content: unknown }>)[0]?.content).toEqual([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }]);
    expect(xai.warnings.map((warning) => warning.setting)).toEqual(['messages.content.prompt_cache_breakpoint', 'messages.content.cache_control']);
    expect((openrouter.body.messages as Array<{ content: unknown }>)[0]?.content).toEqual([{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } }]);
  });

  it('routes the cache key hint to the flavour’s header, preferring the client’s prompt_cache_key', () => {
    const hinted = convertToOpenAICompatibleRequest(REQUEST, { model: 'm', cacheKeyHint: 'hint' }, FLAVOUR_PRESETS.fireworks, false);
    const clientKey = convertToOpenAICompatibleRequest({ ...REQUEST, prompt_cache_key: 'mine' }, { model: 'm', cacheKeyHint: 'hint' }, FLAVOUR_PRESETS.xai, false);
    const none = convertToOpenAICompatibleRequest(REQUEST, { model: 'm', cacheKeyHint: 'hint' }, FLAVOUR_PRESETS.byoc_dynamo, false);

    expect(hinted.headers).toEqual({ 'x-session-affinity': 'hint' });
    expect(clientKey.headers).toEqual({ 'x-grok-conv-id': 'mine' });
    expect(none.headers).toEqual({});
    expect(none.body).not.toHaveProperty('prompt_cache_key');
  });

  it('pins OpenRouter to the configured provider and removes its fallback model list', () => {
    const flavour = resolveFlavour({ flavour: 'openrouter', openRouterProvider: 'fireworks' });

    const { body } = convertToOpenAICompatibleRequest({ ...REQUEST, models: ['x/y'] }, { model: 'meta/llama' }, flavour, false);

    expect(body.provider).toEqual({ order: ['fireworks'], allow_fallbacks: false, data_collection: 'deny' });
    expect(body).not.toHaveProperty('models');
  });

  it('pins the OpenRouter bridge to the bridged model\'s provider when none is configured', () => {
    const flavour = resolveFlavour({ flavour: 'openrouter' });
    const pinned = (model: string) => convertToOpenAICompatibleRequest(REQUEST, { model }, flavour, false).body.provider;

    expect(pinned('openai/gpt-4o-mini')).toEqual({ order: ['openai'], allow_fallbacks: false, data_collection: 'deny' });
    expect(pinned('gemini/gemini-2.5-flash')).toEqual({ order: ['google-ai-studio'], allow_fallbacks: false, data_collection: 'deny' });
    expect(pinned('auto')).toEqual({ allow_fallbacks: false, data_collection: 'deny' });
  });
});
