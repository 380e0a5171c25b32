import OpenAI from 'openai';
import { validateAgainstSchema } from '../support/openapi-validator';
import { startHarness, target, type Harness } from '../support/zumik-harness';

/** OpenAI's schema for each Responses stream event type Zumik sends. */
const EVENT_SCHEMAS: Record<string, string> = {
  'response.created': 'ResponseCreatedEvent', 'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent', 'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent', 'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent', 'response.output_text.done': 'ResponseTextDoneEvent',
  'response.refusal.delta': 'ResponseRefusalDeltaEvent', 'response.refusal.done': 'ResponseRefusalDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  'response.completed': 'ResponseCompletedEvent', 'response.incomplete': 'ResponseIncompleteEvent', error: 'ResponseErrorEvent',
};

/** The events of a raw Responses SSE body, each checked: `event:` matches `data.type`, valid against OpenAI's schema, numbered in order. */
function parseEvents(text: string): Array<Record<string, any>> {
  const events = [...text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)].map((match) => ({ name: match[1]!, data: JSON.parse(match[2]!) as Record<string, any> }));
  events.forEach(({ name, data }, index) => {
    expect(data.type).toBe(name);
    expect(data.sequence_number).toBe(index);
    expect(EVENT_SCHEMAS[name]).toBeDefined();
    expect(validateAgainstSchema(EVENT_SCHEMAS[name]!, data)).toEqual([]);
  });
  return events.map(({ data }) => data);
}

describe('POST /v1/responses (OpenAI Responses front door)', () => {
  let harness: Harness;
  let client: OpenAI;
  const post = (body: unknown, headers: Record<string, string> = {}) => fetch(`${harness.url}/v1/responses`, {
    method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('resp.openai', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('resp.claude', [target('anthropic', 'claude-haiku-4-5')]);
    // OpenAI first, Anthropic as standby: a Responses client served by an Anthropic target when OpenAI fails.
    await harness.installAlias('resp.failover', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.openai.resetReply(); harness.anthropic.reset(); });

  describe('non-streaming', () => {
    it('answers the official SDK with a response object valid against OpenAI\'s schema, usage mapped, the outcome in headers', async () => {
      const { data, response } = await client.responses.create({
        model: 'resp.openai', input: 'Say hi', instructions: 'Be brief.', max_output_tokens: 64, temperature: 0.5, store: false,
      }).withResponse();
      expect(data.output_text).toBe('Hello from the emulator.');
      expect(data).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4o-mini', instructions: 'Be brief.', max_output_tokens: 64,
        temperature: 0.5, store: false, error: null, incomplete_details: null, previous_response_id: null });
      expect(data.id).toMatch(/^resp_/);
      expect(data.output).toEqual([{ id: `msg_${data.id.slice(5)}`, type: 'message', status: 'completed', role: 'assistant',
        content: [{ type: 'output_text', text: 'Hello from the emulator.', annotations: [], logprobs: [] }] }]);
      expect(data.usage).toEqual({ input_tokens: 16, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
        output_tokens: 6, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 22 });
      const { output_text: _sdkConvenience, ...body } = data;
      expect(validateAgainstSchema('Response', body)).toEqual([]);
      expect(response.headers.get('x-zumik-request-id')).toBe(data.id);
      expect(response.headers.get('x-zumik-provider')).toBe('openai');
      expect(response.headers.get('x-zumik-completion')).toBe('completed');
      expect(harness.openai.requests.at(-1)!.body).toMatchObject({ model: 'gpt-4o-mini', max_completion_tokens: 64, temperature: 0.5,
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hi' }] });

      await harness.zumik.client.workflow.getHandle(`req:default:${data.id}`).result();
      expect((await harness.call('GET', `/v2/requests/${data.id}`)).body).toMatchObject({ ingress: 'openai_responses', completion: 'completed', reason_code: 'ok' });
    });

    it('translates function tools, tool_choice, function_call and function_call_output items both ways', async () => {
      harness.openai.setReply({ text: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
      const tools = [{ type: 'function' as const, name: 'get_weather', description: 'Weather by city', strict: true,
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } }];
      const first = await client.responses.create({ model: 'resp.openai', input: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'required' });
      expect(first.output).toEqual([{ id: `fc_${first.id.slice(5)}_0`, type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
      const { output_text: _text, ...body } = first;
      expect(validateAgainstSchema('Response', body)).toEqual([]);
      expect(harness.openai.requests.at(-1)!.body).toMatchObject({ tool_choice: 'required',
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: tools[0]!.parameters, strict: true } }] });

      harness.openai.resetReply();
      const second = await client.responses.create({ model: 'resp.openai', tools, input: [
        { role: 'user', content: 'Weather in Paris?' }, ...first.output.map((item) => item as OpenAI.Responses.ResponseFunctionToolCall),
        { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
        { role: 'user', content: [{ type: 'input_text', text: 'And tomorrow?' }] },
      ] });
      expect(second.output_text).toBe('Hello from the emulator.');
      expect((harness.openai.requests.at(-1)!.body as { messages: unknown[] }).messages).toEqual([
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
      ]);
    });

    it('forwards text.format json_schema as response_format, and reports a cut answer as incomplete (max_output_tokens)', async () => {
      harness.openai.setReply({ text: '{"answer":', finishReason: 'length' });
      const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
      const answer = await client.responses.create({ model: 'resp.openai', input: 'Answer in JSON', max_output_tokens: 16,
        text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
      expect(harness.openai.requests.at(-1)!.body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } });
      expect(answer).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, text: { format: { type: 'json_schema', name: 'answer' } } });
      expect(answer.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
      const { output_text: _text, ...body } = answer;
      expect(validateAgainstSchema('Response', body)).toEqual([]);
    });

    it('replays the same response for the same Idempotency-Key', async () => {
      const headers = { 'Idempotency-Key': `resp-${Date.now()}` };
      const first = await client.responses.create({ model: 'resp.openai', input: 'once' }, { headers });
      const again = await client.responses.create({ model: 'resp.openai', input: 'once' }, { headers });
      expect(again.id).toBe(first.id);
      expect(again.output_text).toBe(first.output_text);
      expect(harness.openai.requests).toHaveLength(1);
    });
  });

  describe('streaming', () => {
    it('streams the Responses event sequence (each event valid against OpenAI\'s schema), and the SDK assembles the response', async () => {
      const stream = client.responses.stream({ model: 'resp.openai', input: 'Say hi' });
      let deltas = '';
      stream.on('response.output_text.delta', (event) => { deltas += event.delta; });
      const final = await stream.finalResponse();
      expect(deltas).toBe('Hello from the emulator.');
      expect(final.output_text).toBe('Hello from the emulator.');
      expect(final.usage).toMatchObject({ input_tokens: 16, output_tokens: 6, total_tokens: 22 });

      const raw = await post({ model: 'resp.openai', input: 'Say hi', stream: true });
      expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await raw.text();
      const events = parseEvents(text);
      const names = events.map((event) => event.type);
      expect(names.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
      expect(names.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
      expect(names.filter((name) => name === 'response.output_text.delta').length).toBeGreaterThan(0);
      const completed = events.at(-1)!.response;
      expect(completed).toMatchObject({ status: 'completed', model: 'gpt-4o-mini', usage: { input_tokens: 16, output_tokens: 6 } });
      expect(completed.id).toBe(raw.headers.get('x-zumik-request-id'));
      expect(text).toMatch(/: zumik-outcome \{.*"completion":"completed".*\}\n\n$/s);
    });

    it('streams function-call items with argument deltas from an Anthropic target', async () => {
      harness.anthropic.enqueueReplies({ text: 'Checking.', toolUses: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] });
      const raw = await post({ model: 'resp.claude', input: 'Weather in Oslo?', stream: true,
        tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] });
      const events = parseEvents(await raw.text());
      const done = events.filter((event) => event.type === 'response.output_item.done').map((event) => event.item);
      expect(done.map((item) => item.type)).toEqual(['message', 'function_call']);
      expect(done[1]).toMatchObject({ call_id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' });
      expect(events.filter((event) => event.type === 'response.function_call_arguments.delta').map((event) => event.delta).join('')).toBe('{"city":"Oslo"}');
      expect(events.at(-1)!.response.output).toHaveLength(2);
      expect(events.at(-1)!.response.model).toBe('claude-haiku-4-5');
    });

    it('ends a stream that broke after its first token with an error event, never response.completed', async () => {
      harness.anthropic.enqueueReplies({ text: 'A long answer that will not finish.', chunkSize: 4, streamError: { afterEvents: 6, type: 'overloaded_error' } });
      const raw = await post({ model: 'resp.claude', input: 'Say hi', stream: true }, { 'x-zumik-stream-resume': 'off' });
      const events = parseEvents(await raw.text());
      expect(events.at(-1)).toMatchObject({ type: 'error', code: 'server_error' });
      expect(events.map((event) => event.type)).not.toContain('response.completed');
      // The SDK rejects with the error event itself, as it does for OpenAI's own.
      await expect((async () => {
        harness.anthropic.enqueueReplies({ text: 'A long answer that will not finish.', chunkSize: 4, streamError: { afterEvents: 6, type: 'overloaded_error' } });
        const stream = client.responses.stream({ model: 'resp.claude', input: 'Say hi' }, { headers: { 'x-zumik-stream-resume': 'off' } });
        await stream.finalResponse();
      })()).rejects.toMatchObject({ type: 'error', code: 'server_error', message: expect.stringContaining('overloaded') });
    });
  });

  describe('failover across surfaces', () => {
    it('serves a Responses client from an Anthropic target when the OpenAI target fails (JSON and stream)', async () => {
      harness.openai.startOutage({ kind: 'status', status: 503 });
      try {
        const { data, response } = await client.responses.create({ model: 'resp.failover', input: 'hi' }).withResponse();
        expect(data.output_text).toBe('Hello from the Anthropic emulator.');
        expect(data.model).toBe('claude-haiku-4-5');
        expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
        expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
        const { output_text: _text, ...body } = data;
        expect(validateAgainstSchema('Response', body)).toEqual([]);

        const streamed = await client.responses.stream({ model: 'resp.failover', input: 'hi' }).finalResponse();
        expect(streamed.output_text).toBe('Hello from the Anthropic emulator.');

        await harness.zumik.client.workflow.getHandle(`req:default:${data.id}`).result();
        const outcome = await harness.call('GET', `/v2/requests/${data.id}`);
        expect(outcome.body).toMatchObject({ ingress: 'openai_responses', completion: 'completed', fallback_used: true, reason_code: 'ok_after_failover' });
        expect(outcome.body.attempts.map((attempt: { provider: string }) => attempt.provider)).toEqual(['openai', 'anthropic']);
      } finally {
        harness.openai.endOutage();
      }
    });
  });

  describe('what cannot be served honestly', () => {
    it.each([
      [{ previous_response_id: 'resp_abc' }, 'previous_response_id'],
      [{ store: true }, 'store'],
      [{ background: true }, 'background'],
      [{ conversation: 'conv_1' }, 'conversation'],
      [{ include: ['reasoning.encrypted_content'] }, 'include'],
      [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
      [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 'input[0].content[0].image_url'],
      [{ max_output_tokens: 3 }, 'max_output_tokens'],
    ])('answers %j with a 400 in OpenAI\'s envelope naming the field', async (extra, param) => {
      const answer = await post({ model: 'resp.openai', input: 'hi', ...extra });
      expect(answer.status).toBe(400);
      const body = await answer.json() as { error: { message: string; type: string; param: string } };
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
      expect(body.error.message).toContain(param.split('[')[0]);
      expect(harness.openai.requests).toHaveLength(0);
    });

    it('is a BadRequestError for the SDK, and an unknown alias a NotFoundError', async () => {
      await expect(client.responses.create({ model: 'resp.openai', input: 'hi', previous_response_id: 'resp_x' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
      await expect(client.responses.create({ model: 'no.such.alias', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });
  });
});
