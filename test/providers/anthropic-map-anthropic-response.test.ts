import { anthropicMessageSchema } from '../../src/providers/anthropic/anthropic-api';
import { mapAnthropicResponse } from '../../src/providers/anthropic/map-anthropic-response';
import { loadAnthropicJson } from '../emulators/anthropic-fixtures';

const parse = (value: unknown) => anthropicMessageSchema.parse(value);

describe('mapAnthropicResponse', () => {
  it('maps a recorded tool_use answer to tool_calls with JSON-string arguments', () => {
    const result = mapAnthropicResponse(parse(loadAnthropicJson('anthropic-json-tool.1.json')), { warnings: [], created: 1 });
    const choice = result.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.raw_finish_reason).toBe('tool_use');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([{ id: 'toolu_01Q9ExVZnzZj7E2QQYHYtNUa', type: 'function', function: { name: 'json', arguments: expect.any(String) } }]);
    expect(JSON.parse(choice.message.tool_calls![0]!.function.arguments).elements).toHaveLength(4);
    expect(result).toMatchObject({ providerResponseId: 'msg_0191iYfpERYfS27xLsdW2nbb', model: 'claude-haiku-4-5-20251001', serviceTier: 'default' });
    expect(result.usage).toEqual({ prompt_tokens: 1151, completion_tokens: 87, total_tokens: 1238, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } });
  });

  it('maps a recorded refusal to content_filter with the explanation as refusal', () => {
    const result = mapAnthropicResponse(parse(loadAnthropicJson('anthropic-refusal.json')), { warnings: [] });
    expect(result.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null, refusal: expect.stringContaining('Usage Policy') } });
  });

  it('skips fallback blocks and keeps the text of the model that served', () => {
    const result = mapAnthropicResponse(parse(loadAnthropicJson('anthropic-fallback.json')), { warnings: [], providerRequestId: 'req_1' });
    expect(result.choices[0]!.message.content).toBe('The printing press was invented by Johannes Gutenberg around 1440.');
    expect(result).toMatchObject({ model: 'claude-opus-4-8', providerRequestId: 'req_1' });
  });

  it('exposes thinking as reasoning_content, keeps the blocks with their signatures (and redacted ones), and reports thinking tokens', () => {
    const result = mapAnthropicResponse(parse({
      id: 'msg_1', model: 'claude-opus-4-8', stop_reason: 'end_turn',
      content: [{ type: 'redacted_thinking', data: 'EncRypted' }, { type: 'thinking', thinking: 'Let me think.', signature: 'sig' }, { type: 'text', text: 'Four.' }],
      usage: { input_tokens: 10, output_tokens: 30, output_tokens_details: { thinking_tokens: 20 } },
    }), { warnings: [{ type: 'other', message: 'kept' }] });
    expect(result.choices[0]!.message).toEqual({ role: 'assistant', content: 'Four.', reasoning_content: 'Let me think.',
      thinking_blocks: [{ type: 'redacted_thinking', data: 'EncRypted' }, { type: 'thinking', thinking: 'Let me think.', signature: 'sig' }] });
    expect(result.usage.completion_tokens_details).toEqual({ reasoning_tokens: 20 });
    expect(result.warnings).toEqual([{ type: 'other', message: 'kept' }]);
  });
});
