import { convertToGeminiContents, SKIP_THOUGHT_SIGNATURE } from '../../src/providers/gemini/convert-to-gemini-contents';
import { ProviderError } from '../../src/providers/provider-error';
import type { ChatMessage } from '../../src/contract/chat';

describe('convertToGeminiContents', () => {
  it('moves system and developer messages to systemInstruction and maps roles to user/model', () => {
    const converted = convertToGeminiContents([
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Bonjour' },
    ]);
    expect(converted.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] });
    expect(converted.contents).toEqual([{ role: 'user', parts: [{ text: 'Hi' }] }, { role: 'model', parts: [{ text: 'Bonjour' }] }]);
    expect(converted.warnings).toEqual([]);
  });

  it('merges consecutive turns of the same role', () => {
    const converted = convertToGeminiContents([{ role: 'user', content: 'one' }, { role: 'user', content: [{ type: 'text', text: 'two' }] }]);
    expect(converted.contents).toEqual([{ role: 'user', parts: [{ text: 'one' }, { text: 'two' }] }]);
  });

  it('warns when a system message arrives mid-conversation', () => {
    const converted = convertToGeminiContents([{ role: 'user', content: 'a' }, { role: 'system', content: 'late rule' }]);
    expect(converted.systemInstruction).toEqual({ parts: [{ text: 'late rule' }] });
    expect(converted.warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'messages[1]' })]);
  });

  it('turns tool calls into functionCall parts and tool results into named functionResponse parts of one user turn', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"city":"Rome"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_2', content: '{"time":"12:00"}' },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ];
    expect(convertToGeminiContents(messages).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      { role: 'model', parts: [
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
        { functionCall: { name: 'get_time', args: { city: 'Rome' } } },
      ] },
      { role: 'user', parts: [
        { functionResponse: { name: 'get_time', response: { time: '12:00' } } },
        { functionResponse: { name: 'get_weather', response: { result: 'sunny' } } },
      ] },
    ]);
  });

  it('replays a thought signature the client echoed in extra_content instead of the validator-skip value', () => {
    const toolCall = { id: 'c', type: 'function' as const, function: { name: 'f', arguments: '{}' }, extra_content: { google: { thought_signature: 'sig==' } } };
    const converted = convertToGeminiContents([{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [toolCall] }]);
    expect(converted.contents[1]!.parts[0]).toEqual({ functionCall: { name: 'f', args: {} }, thoughtSignature: 'sig==' });
  });

  it('sends unparseable tool arguments as {} with a warning', () => {
    const converted = convertToGeminiContents([{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }]);
    expect(converted.contents[0]!.parts[0]).toMatchObject({ functionCall: { name: 'f', args: {} } });
    expect(converted.warnings).toHaveLength(1);
  });

  it('rejects a tool message that answers no earlier call, naming the field', () => {
    const convert = () => convertToGeminiContents([{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'r' }]);
    expect(convert).toThrow(ProviderError);
    expect(convert).toThrow(/messages\[1\]\.tool_call_id/);
  });

  it('converts images in user messages and drops empty turns', () => {
    const converted = convertToGeminiContents([
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklG' } }] },
      { role: 'assistant', content: '' },
    ]);
    expect(converted.contents).toEqual([{ role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/webp', data: 'UklG' } }] }]);
  });
});
