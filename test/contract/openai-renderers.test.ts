import { toChatCompletion, toChatCompletionChunks, type ChatCompletionChunk } from '../../src/contract/openai-renderers';
import type { ChatResult, StreamPart } from '../../src/contract/chat';
import { describeErrors, validateOpenAISchema } from '../support/openapi-validator';

async function* from(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  yield* parts;
}
async function chunksOf(parts: StreamPart[], includeUsage: boolean, extra: { serviceTier?: string; includeReasoning?: boolean } = {}): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of toChatCompletionChunks(from(parts), { id: 'chatcmpl-zumik1', created: 1_770_000_000, model: 'gpt-4.1-nano-2025-04-14', includeUsage, ...extra })) {
    chunks.push(chunk);
  }
  return chunks;
}
function expectValidChunks(chunks: ChatCompletionChunk[]): void {
  for (const chunk of chunks) {
    const result = validateOpenAISchema('CreateChatCompletionStreamResponse', chunk);
    if (!result.valid) throw new Error(`${JSON.stringify(chunk)}\n${describeErrors(result.errors)}`);
  }
}

const USAGE = { prompt_tokens: 100, completion_tokens: 60, total_tokens: 160, prompt_tokens_details: { cached_tokens: 80 }, completion_tokens_details: { reasoning_tokens: 50 } };
const TEXT_STREAM: StreamPart[] = [
  { type: 'stream-start', warnings: [] },
  { type: 'reasoning-delta', choiceIndex: 0, text: 'Thinking.' },
  { type: 'text-delta', choiceIndex: 0, text: 'Hel' },
  { type: 'text-delta', choiceIndex: 0, text: 'lo' },
  { type: 'finish', choiceIndex: 0, finishReason: 'stop' },
  { type: 'usage', usage: USAGE, serviceTier: 'default' },
  { type: 'stream-end' },
];
const TOOL_STREAM: StreamPart[] = [
  { type: 'stream-start', warnings: [] },
  { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, id: 'call_1', name: 'weather', argumentsDelta: '' },
  { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '{"location":' },
  { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '"Paris"}' },
  { type: 'finish', choiceIndex: 0, finishReason: 'tool_calls' },
  { type: 'stream-end' },
];

describe('toChatCompletionChunks', () => {
  it('opens with the assistant role, streams content, finishes, and ends with a usage chunk when asked', async () => {
    const chunks = await chunksOf(TEXT_STREAM, true, { serviceTier: 'default' });

    expect(chunks.map((chunk) => chunk.choices[0]?.delta ?? 'usage')).toEqual([{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }, {}, 'usage']);
    expect(chunks[3]?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null && chunk.id === 'chatcmpl-zumik1' && chunk.service_tier === 'default')).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 60, total_tokens: 160,
      prompt_tokens_details: { cached_tokens: 80, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 50 } } });
    expectValidChunks(chunks);
  });

  it('sends no usage field and no usage chunk when include_usage is off', async () => {
    const chunks = await chunksOf(TEXT_STREAM, false);

    expect(chunks).toHaveLength(4);
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expectValidChunks(chunks);
  });

  it('re-emits tool calls as OpenAI does: id, type and name on the first fragment, arguments after', async () => {
    const chunks = await chunksOf(TOOL_STREAM, true);

    expect(chunks.slice(1, 4).map((chunk) => chunk.choices[0]?.delta.tool_calls)).toEqual([
      [{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } }],
      [{ index: 0, function: { arguments: '{"location":' } }],
      [{ index: 0, function: { arguments: '"Paris"}' } }],
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    expectValidChunks(chunks);
  });

  it('re-emits reasoning only when asked, and omits a tier OpenAI does not know', async () => {
    const chunks = await chunksOf(TEXT_STREAM, false, { includeReasoning: true, serviceTier: 'on_demand' });

    expect(chunks[1]?.choices[0]?.delta).toEqual({ reasoning_content: 'Thinking.' });
    expect(chunks.every((chunk) => !('service_tier' in chunk))).toBe(true);
    expectValidChunks(chunks);
  });
});

describe('toChatCompletion', () => {
  const result: ChatResult = {
    providerResponseId: 'a3d1008e', model: 'grok-4.3', created: 1_752_854_522,
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, reasoning_content: 'hmm',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"location":"Paris"}' } }] },
    finish_reason: 'tool_calls', raw_finish_reason: 'tool_calls' }],
    usage: USAGE, serviceTier: 'priority', systemFingerprint: 'fp_1', providerRequestId: 'req_1', warnings: [],
  };

  it('builds the exact chat.completion body under the public id', () => {
    const body = toChatCompletion(result, { id: 'chatcmpl-zumik2' });

    expect(body).toEqual({
      id: 'chatcmpl-zumik2', object: 'chat.completion', created: 1_752_854_522, model: 'grok-4.3',
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, tool_calls: result.choices[0]!.message.tool_calls, annotations: [] },
        logprobs: null, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 100, completion_tokens: 60, total_tokens: 160, prompt_tokens_details: { cached_tokens: 80, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 50, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } },
      service_tier: 'priority', system_fingerprint: 'fp_1',
    });
    const validation = validateOpenAISchema('CreateChatCompletionResponse', body);
    expect(describeErrors(validation.errors)).toBe('');
  });

  it('validates for a text answer with a cache write, and the validator does reject a broken body', () => {
    const text = toChatCompletion({ ...result, usage: { ...USAGE, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 1200 } },
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }] }, { id: 'chatcmpl-3', model: 'override' });

    expect(text.model).toBe('override');
    expect(text.usage.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0, cache_write_tokens: 1200 });
    expect(validateOpenAISchema('CreateChatCompletionResponse', text).valid).toBe(true);
    expect(validateOpenAISchema('CreateChatCompletionResponse', { ...text, choices: [{ ...text.choices[0], finish_reason: 'end_turn' }] }).valid).toBe(false);
  });
});
