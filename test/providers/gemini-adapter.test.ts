import { DEFAULT_GEMINI_TEXT } from '../emulators/gemini-emulator-bodies';
import type { ChatRequest } from '../../src/contract/chat';
import { API_KEY, callOptions, drain, MODEL, startGeminiHarness, streamedText, type GeminiHarness } from './gemini-adapter-harness';
import { loadGeminiChunks, loadGeminiJson } from './gemini-fixtures';

const hello: ChatRequest = { model: 'alias', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello?' }] };
const weatherTool: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } }];

let harness: GeminiHarness;
beforeAll(async () => { harness = await startGeminiHarness(); });
afterAll(async () => { await harness.close(); });
afterEach(() => { harness.emulator.reset(); harness.emulator.setReply({}); });

describe('GeminiAdapter', () => {
  describe('generate', () => {
    it('answers a plain request, sending the key only in x-goog-api-key', async () => {
      const result = await harness.adapter.generate(hello, callOptions());
      expect(result).toMatchObject({ model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: DEFAULT_GEMINI_TEXT }, finish_reason: 'stop' }] });
      expect(result.providerResponseId).not.toBe('');
      const [request] = harness.emulator.requests;
      expect(request).toMatchObject({ method: 'POST', path: `/v1beta/models/${MODEL}:generateContent` });
      expect(request!.headers['x-goog-api-key']).toBe(API_KEY);
      expect([...request!.query.keys()]).toEqual([]);
      expect(request!.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hello?' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] } });
    });

    it('returns tool calls with generated ids and sends the tool result back as a named functionResponse', async () => {
      harness.emulator.setReply({ functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] });
      const first = await harness.adapter.generate({ ...hello, tools: weatherTool, tool_choice: 'required' }, callOptions());
      const toolCall = first.choices[0]!.message.tool_calls![0]!;
      expect(first.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null } });
      expect(toolCall).toMatchObject({ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
      expect(harness.emulator.requests[0]!.body).toMatchObject({
        tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      });

      harness.emulator.setReply({ text: 'It is sunny in Paris.' });
      const second = await harness.adapter.generate({ ...hello, tools: weatherTool, messages: [
        ...hello.messages, { role: 'assistant', content: null, tool_calls: [toolCall] }, { role: 'tool', tool_call_id: toolCall.id, content: 'sunny' },
      ] }, callOptions());
      expect(second.choices[0]!.message.content).toBe('It is sunny in Paris.');
      expect((harness.emulator.requests[1]!.body as { contents: unknown[] }).contents.slice(1)).toEqual([
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'EmulatorThoughtSignature==' }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: 'sunny' } } }] },
      ]);
    });

    it('reports cached and thinking tokens, thoughts and the served tier', async () => {
      harness.emulator.setReply({ thoughts: 'Counting letters.', usage: { promptTokenCount: 5000, cachedContentTokenCount: 4096, candidatesTokenCount: 20, thoughtsTokenCount: 300 } });
      const result = await harness.adapter.generate({ ...hello, service_tier: 'flex', reasoning_effort: 'low' }, callOptions());
      expect(result.usage).toEqual({
        prompt_tokens: 5000, completion_tokens: 320, total_tokens: 5320,
        prompt_tokens_details: { cached_tokens: 4096 }, completion_tokens_details: { reasoning_tokens: 300 },
      });
      expect(result.choices[0]!.message.reasoning_content).toBe('Counting letters.');
      expect(result.serviceTier).toBe('flex');
      expect(harness.emulator.requests[0]!.body).toMatchObject({ serviceTier: 'flex', generationConfig: { thinkingConfig: { thinkingLevel: 'LOW', includeThoughts: true } } });
    });

    it('reports a priority request downgraded to standard as the default tier', async () => {
      harness.emulator.setReply({ servedTier: 'standard' });
      expect((await harness.adapter.generate({ ...hello, service_tier: 'priority' }, callOptions())).serviceTier).toBe('default');
    });

    it('replays the recorded reasoning answer', async () => {
      harness.emulator.setReply({ body: loadGeminiJson('google-reasoning-gemini3') });
      const result = await harness.adapter.generate(hello, callOptions());
      expect(result).toMatchObject({ providerResponseId: 'DniLab2dFPeSxN8PpqXY4Ag', model: 'gemini-3-pro-preview', usage: { completion_tokens: 287, completion_tokens_details: { reasoning_tokens: 258 } } });
    });

    it('maps a blocked prompt to content_filter', async () => {
      harness.emulator.setReply({ blockReason: 'PROHIBITED_CONTENT' });
      expect((await harness.adapter.generate(hello, callOptions())).choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
    });

    it('maps an unknown model to model_not_found', async () => {
      await expect(harness.adapter.generate(hello, callOptions({ model: 'models/gemini-0-nope' }))).rejects.toMatchObject({ kind: 'model_not_found', status: 404, providerCode: 'NOT_FOUND' });
    });
  });

  describe('stream', () => {
    it('streams text as start, deltas, finish, usage and end', async () => {
      const { parts, error } = await drain(harness.adapter.stream(hello, callOptions()));
      expect(error).toBeUndefined();
      expect(parts[0]).toMatchObject({ type: 'stream-start', model: MODEL, warnings: [] });
      expect(streamedText(parts)).toBe(DEFAULT_GEMINI_TEXT);
      expect(parts.filter((part) => part.type === 'text-delta').length).toBeGreaterThan(1);
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
      const [request] = harness.emulator.requests;
      expect(request).toMatchObject({ path: `/v1beta/models/${MODEL}:streamGenerateContent` });
      expect(Object.fromEntries(request!.query)).toEqual({ alt: 'sse' });
    });

    it('streams a function call once with id, name and full arguments, then finishes with tool_calls', async () => {
      harness.emulator.setReply({ thoughts: 'Need the weather tool.', functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }, { name: 'get_weather', args: { city: 'Rome' }, id: 'fc-2' }] });
      const { parts } = await drain(harness.adapter.stream({ ...hello, tools: weatherTool }, callOptions()));
      expect(parts.filter((part) => part.type === 'reasoning-delta')).toEqual([{ type: 'reasoning-delta', choiceIndex: 0, text: 'Need the weather tool.' }]);
      expect(parts.filter((part) => part.type === 'tool-call-delta')).toEqual([
        { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, id: expect.stringMatching(/^call_/), name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
        { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 1, id: 'fc-2', name: 'get_weather', argumentsDelta: '{"city":"Rome"}' },
      ]);
      expect(parts.find((part) => part.type === 'finish')).toMatchObject({ finishReason: 'tool_calls' });
    });

    it('reports usage with cached and thinking tokens and the served tier from the last chunk', async () => {
      harness.emulator.setReply({ usage: { promptTokenCount: 4200, cachedContentTokenCount: 4096, candidatesTokenCount: 7, thoughtsTokenCount: 50 } });
      const { parts } = await drain(harness.adapter.stream({ ...hello, service_tier: 'priority' }, callOptions()));
      expect(parts.find((part) => part.type === 'usage')).toEqual({
        type: 'usage', model: MODEL, serviceTier: 'priority',
        usage: { prompt_tokens: 4200, completion_tokens: 57, total_tokens: 4257, prompt_tokens_details: { cached_tokens: 4096 }, completion_tokens_details: { reasoning_tokens: 50 } },
      });
    });

    it('replays the recorded streamed function-call arguments', async () => {
      harness.emulator.setReply({ chunks: loadGeminiChunks('google-stream-tool-call-arguments') });
      const { parts, error } = await drain(harness.adapter.stream(hello, callOptions()));
      expect(error).toBeUndefined();
      expect(parts.filter((part) => part.type === 'tool-call-delta').map((part) => part.type === 'tool-call-delta' && part.argumentsDelta))
        .toEqual(['{"location":"Boston"}', '{"location":"San Francisco"}']);
    });

    it('reads LF-delimited events as well as CRLF ones', async () => {
      const lf = await startGeminiHarness({ lineEnding: '\n' });
      try {
        const { parts, error } = await drain(lf.adapter.stream(hello, callOptions()));
        expect(error).toBeUndefined();
        expect(streamedText(parts)).toBe(DEFAULT_GEMINI_TEXT);
      } finally {
        await lf.close();
      }
    });
  });
});
