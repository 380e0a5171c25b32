import { responsesRequestSchema, responsesToChat, ResponsesTranslationError } from '../../src/contract/openai-responses';
import { ResponsesStreamTranslator, toResponsesResponse } from '../../src/contract/openai-responses-renderers';
import { validateAgainstSchema } from '../support/openapi-validator';

const translate = (body: Record<string, unknown>) => responsesToChat(responsesRequestSchema.parse({ model: 'a', ...body }));
const events = (text: string) => [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, any>);

describe('responsesToChat', () => {
  it('maps instructions, message items (text, images, files), function calls joined to their assistant turn, and settings', () => {
    const chat = translate({
      instructions: 'Be brief.', max_output_tokens: 100, temperature: 0.2, top_p: 0.9, parallel_tool_calls: false, reasoning: { effort: 'low' },
      text: { format: { type: 'json_object' }, verbosity: 'low' }, service_tier: 'flex', prompt_cache_key: 'k', stream: true,
      tool_choice: { type: 'function', name: 't' }, tools: [{ type: 'function', name: 't', parameters: { type: 'object' } }],
      input: [
        { role: 'developer', content: 'Use tools.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' },
          { type: 'input_file', file_data: 'data:application/pdf;base64,JVB', filename: 'a.pdf' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Calling.' }] },
        { type: 'function_call', call_id: 'c1', name: 't', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 't', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
      ],
    });
    expect(chat).toEqual({
      model: 'a', max_completion_tokens: 100, temperature: 0.2, top_p: 0.9, parallel_tool_calls: false, reasoning_effort: 'low',
      response_format: { type: 'json_object' }, verbosity: 'low', service_tier: 'flex', prompt_cache_key: 'k', stream: true, stream_options: { include_usage: true },
      tool_choice: { type: 'function', function: { name: 't' } }, tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Use tools.' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVB', filename: 'a.pdf' } }] },
        { role: 'assistant', content: 'Calling.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 't', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 't', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'one' },
        { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'two' }] },
      ],
    });
  });

  it.each([
    [{ input: [{ type: 'reasoning', summary: [] }] }, 'input[0].type'],
    [{ input: [{ type: 'function_call', name: 't', arguments: '{}' }] }, 'input[0].call_id'],
    [{ input: [{ role: 'tool', content: 'x' }] }, 'input[0].role'],
    [{ tool_choice: { type: 'file_search' } }, 'tool_choice'],
    [{ truncation: 'auto' }, 'truncation'],
    [{ prompt: { id: 'pmpt_1' } }, 'prompt'],
    [{ instructions: 'only instructions', input: [] }, 'input'],
  ])('refuses %j naming the field', (extra, param) => {
    const attempt = () => translate({ input: 'hi', ...extra });
    expect(attempt).toThrow(ResponsesTranslationError);
    expect(attempt).toThrow(expect.objectContaining({ param }));
  });
});

describe('Responses renderers', () => {
  it('renders a refusal and a tool call as a valid response object', () => {
    const response = toResponsesResponse({ id: 'resp_1', created: 5, model: 'm', service_tier: 'flex',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { content: null, refusal: 'No.', tool_calls: [{ id: 'c', function: { name: 't', arguments: '{}' } }] } }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 1 } } }, { tools: [{ type: 'function', name: 't' }] });
    expect(response.output).toEqual([
      { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] },
      { id: 'fc_1_0', type: 'function_call', status: 'completed', call_id: 'c', name: 't', arguments: '{}' },
    ]);
    expect(response).toMatchObject({ service_tier: 'flex', usage: { input_tokens: 3, input_tokens_details: { cached_tokens: 1 }, output_tokens: 2 } });
    expect(validateAgainstSchema('Response', response)).toEqual([]);
  });

  it('streams a refusal part after a text part in one message, each event numbered and valid', () => {
    const translator = new ResponsesStreamTranslator('resp_2', {});
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => translator.chunk({ id: 'resp_2', created: 7, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });
    const out = events([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hm' }), chunk({ refusal: 'No.' }), chunk({}, 'stop'), translator.finish()].join(''));
    expect(out.map((event) => event.type)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.content_part.added', 'response.refusal.delta',
      'response.refusal.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(out.map((event) => event.sequence_number)).toEqual(out.map((_event, index) => index));
    expect(out.at(-1)!.response.output[0].content).toEqual([{ type: 'output_text', text: 'Hm', annotations: [], logprobs: [] }, { type: 'refusal', refusal: 'No.' }]);
    const schemas: Record<string, string> = { 'response.refusal.delta': 'ResponseRefusalDeltaEvent', 'response.refusal.done': 'ResponseRefusalDoneEvent',
      'response.completed': 'ResponseCompletedEvent', 'response.output_item.done': 'ResponseOutputItemDoneEvent' };
    for (const event of out) if (schemas[event.type]) expect(validateAgainstSchema(schemas[event.type]!, event)).toEqual([]);
  });
});
