import { convertToAnthropicMessages } from '../../src/providers/anthropic/convert-to-anthropic-messages';
import type { ChatMessage } from '../../src/contract/chat';

describe('convertToAnthropicMessages', () => {
  it('moves system and developer messages into top-level system blocks, in order', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hi' },
    ]);
    expect(prompt.system).toEqual([{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }]);
    expect(prompt.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
    expect(prompt.warnings).toEqual([]);
  });

  it('hoists a mid-conversation system message with an approximated-setting warning', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'system', content: 'Now be formal.' },
      { role: 'user', content: 'Go on' },
    ]);
    expect(prompt.system).toEqual([{ type: 'text', text: 'Now be formal.' }]);
    expect(prompt.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(prompt.warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'messages[].role' })]);
  });

  it('converts multi-part user content with data: and https: images', () => {
    const prompt = convertToAnthropicMessages([{ role: 'user', content: [
      { type: 'text', text: 'What is in these?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
    ] }]);
    expect(prompt.messages[0]!.content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('drops a part Anthropic cannot take, with a warning naming it', () => {
    const prompt = convertToAnthropicMessages([{ role: 'user', content: [
      { type: 'text', text: 'Listen' },
      { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
    ] }]);
    expect(prompt.messages[0]!.content).toEqual([{ type: 'text', text: 'Listen' }]);
    expect(prompt.warnings).toEqual([expect.objectContaining({ type: 'unsupported-setting', setting: 'messages[].content[].input_audio' })]);
  });

  it('turns assistant tool calls into tool_use blocks after the assistant text', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    ]);
    expect(prompt.messages[1]).toEqual({ role: 'assistant', content: [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ] });
  });

  it('sends {} with a warning when tool-call arguments are not a JSON object', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{not json' } }] },
    ]);
    expect(prompt.messages[1]!.content).toEqual([{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }]);
    expect(prompt.warnings).toEqual([expect.objectContaining({ setting: 'messages[].tool_calls[].function.arguments' })]);
  });

  it('merges consecutive tool results and the next user message into one user turn, tool results first', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Compare Paris and Rome' },
      { role: 'assistant', tool_calls: [
        { id: 'toolu_p', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_r', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
      ] },
      { role: 'tool', tool_call_id: 'toolu_p', content: '18°C' },
      { role: 'tool', tool_call_id: 'toolu_r', content: [{ type: 'text', text: '24°C' }] },
      { role: 'user', content: 'Which is warmer?' },
    ];
    const prompt = convertToAnthropicMessages(messages);
    expect(prompt.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(prompt.messages[2]!.content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_p', content: '18°C' },
      { type: 'tool_result', tool_use_id: 'toolu_r', content: [{ type: 'text', text: '24°C' }] },
      { type: 'text', text: 'Which is warmer?' },
    ]);
  });

  it('merges consecutive user messages, which Anthropic would otherwise reject', () => {
    const prompt = convertToAnthropicMessages([{ role: 'user', content: 'one' }, { role: 'user', content: 'two' }]);
    expect(prompt.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }]);
  });

  it('skips empty text and empty assistant turns', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'Hi' }, { role: 'assistant', content: '' }, { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'again' }] },
    ]);
    expect(prompt.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'again' }] }]);
  });

  it("translates the caller's cache markers: cache_control as is, prompt_cache_breakpoint as a 5-minute breakpoint", () => {
    const prompt = convertToAnthropicMessages([
      { role: 'system', content: [{ type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      { role: 'user', content: [{ type: 'text', text: 'Big document', prompt_cache_breakpoint: { mode: 'explicit' } }, { type: 'text', text: 'Question' }] },
    ]);
    expect(prompt.system).toEqual([{ type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
    expect(prompt.messages[0]!.content).toEqual([
      { type: 'text', text: 'Big document', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Question' },
    ]);
  });
});
