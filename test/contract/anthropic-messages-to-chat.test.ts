import { anthropicMessagesRequestSchema } from '../../src/contract/anthropic-messages';
import { anthropicMessagesToChat, MessagesTranslationError } from '../../src/contract/anthropic-messages-to-chat';
import { AnthropicStreamTranslator, toAnthropicMessage, toAnthropicUsage } from '../../src/contract/anthropic-messages-renderers';
import { completionAsChunks } from '../../src/contract/openai-renderers';

const translate = (body: Record<string, unknown>) => anthropicMessagesToChat(anthropicMessagesRequestSchema.parse({ model: 'a', max_tokens: 10, ...body }));

describe('anthropicMessagesToChat', () => {
  it('keeps system blocks with cache_control, thinking, stop sequences, tool choice and the user id', () => {
    const chat = translate({
      system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral', ttl: '1h' } }], stop_sequences: ['X'],
      thinking: { type: 'enabled', budget_tokens: 2048 }, metadata: { user_id: 'u1' }, service_tier: 'standard_only',
      tools: [{ name: 't', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 't', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'hi' }], stream: true,
    });
    expect(chat).toEqual({
      model: 'a', max_tokens: 10, stop: ['X'], user: 'u1', service_tier: 'default', thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'system', content: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 't' } }, parallel_tool_calls: false,
      stream: true, stream_options: { include_usage: true },
    });
  });

  it('puts tool results first as tool messages, marks errors in their text, and keeps earlier thinking blocks verbatim', () => {
    const chat = translate({ messages: [
      { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'EncRypted' }, { type: 'thinking', thinking: 'hm', signature: 's' },
        { type: 'tool_use', id: 'c1', name: 't', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'text', text: 'after' }, { type: 'tool_result', tool_use_id: 'c1', content: 'boom', is_error: true }] },
    ] });
    expect(chat.messages).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 't', arguments: '{"a":1}' } }],
        thinking_blocks: [{ type: 'redacted_thinking', data: 'EncRypted' }, { type: 'thinking', thinking: 'hm', signature: 's' }] },
      { role: 'tool', tool_call_id: 'c1', content: 'Error: boom' },
      { role: 'user', content: [{ type: 'text', text: 'after' }] },
    ]);
  });

  it.each([
    [{ top_k: 3 }, 'top_k'],
    [{ mcp_servers: [] }, 'mcp_servers'],
    [{ tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'tools[0].type'],
    [{ tools: [{ name: 'no_schema' }] }, 'tools[0].input_schema'],
    [{ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] }, 'messages[0].content[0].source'],
    [{ messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm' }] }] }, 'messages[1].content[0].signature'],
    [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'redacted_thinking' }] }] }, 'messages[1].content[0].data'],
  ])('refuses what it cannot translate, naming the field: %j', (extra, param) => {
    const attempt = () => translate({ messages: [{ role: 'user', content: 'hi' }], ...extra });
    expect(attempt).toThrow(MessagesTranslationError);
    expect(attempt).toThrow(expect.objectContaining({ param }));
  });
});

describe('Anthropic renderers', () => {
  it('renders a completion as a Message: thinking, text, tool use, stop reason and usage without cached tokens in input', () => {
    const message = toAnthropicMessage({
      id: 'msg_1', model: 'm', choices: [{ index: 0, finish_reason: 'tool_calls', message: { content: 'ok', reasoning_content: 'r',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 't', arguments: '{"x":2}' } }] } }],
      usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 30 } },
    });
    expect(message).toEqual({ id: 'msg_1', type: 'message', role: 'assistant', model: 'm', stop_reason: 'tool_use', stop_sequence: null,
      content: [{ type: 'thinking', thinking: 'r', signature: '' }, { type: 'text', text: 'ok' }, { type: 'tool_use', id: 'c', name: 't', input: { x: 2 } }],
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 30, cache_read_input_tokens: 60 } });
    const signed = toAnthropicMessage({ id: 'msg_1', model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { content: 'ok', reasoning_content: 'ab',
      thinking_blocks: [{ type: 'redacted_thinking', data: 'D' }, { type: 'thinking', thinking: 'a', signature: 'S1' }, { type: 'thinking', thinking: 'b', signature: 'S2' }] } }] });
    expect(signed.content).toEqual([{ type: 'redacted_thinking', data: 'D' }, { type: 'thinking', thinking: 'a', signature: 'S1' },
      { type: 'thinking', thinking: 'b', signature: 'S2' }, { type: 'text', text: 'ok' }]);
    expect(toAnthropicUsage(null)).toEqual({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('turns OpenAI chunks into Anthropic\'s event sequence, one block per kind, closed before the next', () => {
    const translator = new AnthropicStreamTranslator('msg_2');
    const base = { id: 'msg_2', model: 'm' };
    const out = [
      translator.chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }),
      translator.chunk({ ...base, choices: [{ index: 0, delta: { reasoning_content: 'think' } }] }),
      translator.chunk({ ...base, choices: [{ index: 0, delta: { content: 'Hi' } }] }),
      translator.chunk({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 't', arguments: '{"a"' } }] } }] }),
      translator.chunk({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }] }),
      translator.chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }),
      translator.chunk({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }),
      translator.finish(),
    ].join('');
    const events = [...out.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, any>);
    expect(events.map((event) => event.type)).toEqual(['message_start', 'ping',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop']);
    expect(events[2]!.content_block).toEqual({ type: 'thinking', thinking: '', signature: '' });
    expect(events[8]).toMatchObject({ index: 2, content_block: { type: 'tool_use', id: 'c', name: 't', input: {} } });
    expect(events[12]).toEqual({ type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { input_tokens: 3, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } });
  });

  it('renders signatures and redacted thinking as Anthropic sends them: signature_delta closes a block, the next thinking opens a new one', () => {
    const translator = new AnthropicStreamTranslator('msg_3');
    const chunk = (delta: Record<string, unknown>) => translator.chunk({ id: 'msg_3', model: 'm', choices: [{ index: 0, delta }] });
    const out = [chunk({ role: 'assistant', content: '' }), chunk({ redacted_thinking: 'D' }), chunk({ reasoning_content: 'a' }), chunk({ reasoning_signature: 'S1' }),
      chunk({ reasoning_content: 'b' }), chunk({ reasoning_signature: 'S2' }), chunk({ content: 'ok' }), translator.finish()].join('');
    const events = [...out.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, any>);
    expect(events.slice(2, 14)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'D' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'a' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'signature_delta', signature: 'S1' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'thinking_delta', thinking: 'b' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'signature_delta', signature: 'S2' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'ok' } },
    ]);
  });

  it('replays a recorded answer (an Idempotency-Key replay as a stream) with its signed thinking, block by block', () => {
    const translator = new AnthropicStreamTranslator('msg_4');
    const body = { id: 'msg_4', model: 'm', created: 1, choices: [{ index: 0, finish_reason: 'stop', message: { content: 'ok', reasoning_content: 'ab',
      thinking_blocks: [{ type: 'thinking', thinking: 'a', signature: 'S1' }, { type: 'redacted_thinking', data: 'D' }] } }], usage: { prompt_tokens: 1, completion_tokens: 2 } };
    const out = completionAsChunks(body, true).map((chunk) => translator.chunk(chunk)).join('') + translator.finish();
    const events = [...out.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, any>);
    const blocks = events.filter((event) => event.type === 'content_block_start').map((event) => event.content_block.type);
    expect(blocks).toEqual(['thinking', 'redacted_thinking', 'text']);
    expect(events.find((event) => event.delta?.type === 'signature_delta')).toMatchObject({ index: 0, delta: { signature: 'S1' } });
    expect(events.find((event) => event.content_block?.type === 'redacted_thinking')).toMatchObject({ index: 1, content_block: { data: 'D' } });
  });
});
