import { ANTHROPIC_DEFAULT_MAX_TOKENS, JSON_OBJECT_INSTRUCTION, prepareAnthropicRequest } from '../../src/providers/anthropic/prepare-anthropic-request';
import type { ChatRequest } from '../../src/contract/chat';

const MODEL = 'claude-haiku-4-5-20251001';
const hello: ChatRequest['messages'] = [{ role: 'user', content: 'Hello' }];

describe('prepareAnthropicRequest', () => {
  it('builds a minimal body with the default max_tokens Anthropic requires', () => {
    const { body, warnings } = prepareAnthropicRequest({ messages: hello }, MODEL);
    expect(body).toEqual({ model: MODEL, max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] });
    expect(warnings).toEqual([]);
  });

  it('prefers max_completion_tokens over the deprecated max_tokens', () => {
    expect(prepareAnthropicRequest({ messages: hello, max_tokens: 50 }, MODEL).body.max_tokens).toBe(50);
    expect(prepareAnthropicRequest({ messages: hello, max_tokens: 50, max_completion_tokens: 70 }, MODEL).body.max_tokens).toBe(70);
  });

  it('maps stop to stop_sequences', () => {
    expect(prepareAnthropicRequest({ messages: hello, stop: 'END' }, MODEL).body.stop_sequences).toEqual(['END']);
    expect(prepareAnthropicRequest({ messages: hello, stop: ['a', 'b'] }, MODEL).body.stop_sequences).toEqual(['a', 'b']);
  });

  it('drops parameters Anthropic lacks, one warning each, and ignores their neutral values', () => {
    const { body, warnings } = prepareAnthropicRequest({
      messages: hello, n: 2, logprobs: true, top_logprobs: 3, frequency_penalty: 0.5, presence_penalty: 0.1, seed: 7, logit_bias: { 50256: -100 },
    }, MODEL);
    expect(warnings.map((warning) => warning.setting)).toEqual(['n', 'logprobs', 'top_logprobs', 'frequency_penalty', 'presence_penalty', 'seed', 'logit_bias']);
    expect(warnings.every((warning) => warning.type === 'unsupported-setting')).toBe(true);
    expect(body).not.toHaveProperty('seed');
    expect(prepareAnthropicRequest({ messages: hello, n: 1, logprobs: false, frequency_penalty: 0, presence_penalty: 0 }, MODEL).warnings).toEqual([]);
  });

  it("uses Anthropic's structured output for a json_schema response format", () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const { body, warnings } = prepareAnthropicRequest({ messages: hello, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } }, MODEL);
    expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } });
    expect(body.system).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('approximates json_object with a system instruction and a warning', () => {
    const { body, warnings } = prepareAnthropicRequest({ messages: [{ role: 'system', content: 'Be brief.' }, ...hello], response_format: { type: 'json_object' } }, MODEL);
    expect(body.system?.map((block) => block.text)).toEqual(['Be brief.', JSON_OBJECT_INSTRUCTION]);
    expect(body.output_config).toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'response_format' })]);
  });

  it('maps reasoning_effort to output_config.effort, approximating minimal', () => {
    expect(prepareAnthropicRequest({ messages: hello, reasoning_effort: 'high' }, MODEL).body.output_config).toEqual({ effort: 'high' });
    const minimal = prepareAnthropicRequest({ messages: hello, reasoning_effort: 'minimal' }, MODEL);
    expect(minimal.body.output_config).toEqual({ effort: 'low' });
    expect(minimal.warnings).toEqual([expect.objectContaining({ setting: 'reasoning_effort' })]);
  });

  it.each([
    ['auto', 'auto', false], ['default', 'standard_only', false], ['flex', 'standard_only', true], ['priority', 'auto', true], ['fast', 'auto', true],
  ] as const)('maps service_tier %s to %s', (tier, expected, warned) => {
    const { body, warnings } = prepareAnthropicRequest({ messages: hello, service_tier: tier }, MODEL);
    expect(body.service_tier).toBe(expected);
    expect(warnings.some((warning) => warning.setting === 'service_tier')).toBe(warned);
  });

  it('passes the end-user id as metadata.user_id', () => {
    expect(prepareAnthropicRequest({ messages: hello, safety_identifier: 'user-42', user: 'old' }, MODEL).body.metadata).toEqual({ user_id: 'user-42' });
  });

  it('respects models that accept only default sampling', () => {
    const { body, warnings } = prepareAnthropicRequest({ messages: hello, temperature: 0.2 }, 'claude-opus-4-8');
    expect(body).not.toHaveProperty('temperature');
    expect(warnings).toEqual([expect.objectContaining({ setting: 'temperature' })]);
  });

  it('places automatic cache breakpoints unless prompt_cache_options asks for explicit ones only', () => {
    const request: ChatRequest = { messages: [{ role: 'system', content: 'Rules' }, ...hello] };
    expect(prepareAnthropicRequest(request, MODEL).body.system).toEqual([{ type: 'text', text: 'Rules', cache_control: { type: 'ephemeral' } }]);
    expect(prepareAnthropicRequest({ ...request, prompt_cache_options: { mode: 'explicit' } }, MODEL).body.system).toEqual([{ type: 'text', text: 'Rules' }]);
  });
});
