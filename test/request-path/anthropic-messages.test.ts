import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { DEFAULT_THINKING_TEXT, redactedThinkingData, signThinking } from '../emulators/anthropic-emulator-replies';
import { countInputTokens } from '../emulators/anthropic-emulator-cache';

/** The event names of a raw SSE body, in order (comments left out). */
function eventNames(text: string): string[] {
  return [...text.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]!);
}

describe('POST /v1/messages (Anthropic Messages front door)', () => {
  let harness: Harness;
  let anthropic: Anthropic;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('msg.openai', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('msg.claude', [target('anthropic', 'claude-haiku-4-5')]);
    await harness.installAlias('msg.reasoner', [target('openai', 'gpt-5-mini')]);
    // Anthropic first, OpenAI as standby: an Anthropic-format client served by an OpenAI target when Anthropic fails.
    await harness.installAlias('msg.failover', [target('anthropic', 'claude-haiku-4-5', 1), target('openai', 'gpt-4o-mini', 0)]);
    // And the reverse: an OpenAI-format client served by an Anthropic target.
    await harness.installAlias('chat.to-claude', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    anthropic = new Anthropic({ baseURL: harness.url, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.openai.resetReply(); harness.anthropic.reset(); });

  describe('non-streaming', () => {
    it('answers an Anthropic SDK client from an OpenAI target, in Anthropic\'s Message format with the outcome in headers', async () => {
      // This SDK's types no longer list temperature (newer models fix it); clients of older ones still send it.
      const params = { model: 'msg.openai', max_tokens: 100, system: 'Be brief.', stop_sequences: ['END'], temperature: 0.5,
        messages: [{ role: 'user' as const, content: 'Say hi' }] };
      const { data, response } = await anthropic.messages.create(params).withResponse();
      expect(data).toMatchObject({ type: 'message', role: 'assistant', model: 'gpt-4o-mini', stop_reason: 'end_turn', stop_sequence: null });
      expect(data.id).toMatch(/^msg_/);
      expect(data.content).toEqual([{ type: 'text', text: 'Hello from the emulator.' }]);
      expect(data.usage).toMatchObject({ input_tokens: 16, output_tokens: 6, cache_read_input_tokens: 0 });
      expect(response.headers.get('request-id')).toBe(data.id);
      expect(response.headers.get('x-zumik-provider')).toBe('openai');
      expect(response.headers.get('x-zumik-completion')).toBe('completed');
      const sent = harness.openai.requests.at(-1)!.body as Record<string, unknown>;
      expect(sent).toMatchObject({ model: 'gpt-4o-mini', stop: ['END'], temperature: 0.5,
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Say hi' }] }] });
    });

    it('passes system blocks, cache_control and thinking through natively to an Anthropic target, and answers its thinking', async () => {
      harness.anthropic.enqueueReplies({ thinking: 'Let me think.', text: 'Done.' });
      const message = await anthropic.messages.create({
        model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 },
        system: [{ type: 'text', text: 'A long shared system prompt.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Think, then answer.', cache_control: { type: 'ephemeral' } }] }],
      });
      const sent = harness.anthropic.messageBodies.at(-1)!;
      expect(sent.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
      expect(sent.system).toEqual([{ type: 'text', text: 'A long shared system prompt.', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
      expect((sent.messages as Array<{ content: unknown[] }>)[0]!.content).toEqual([{ type: 'text', text: 'Think, then answer.', cache_control: { type: 'ephemeral' } }]);
      expect(message.content).toEqual([{ type: 'thinking', thinking: 'Let me think.', signature: signThinking('Let me think.') }, { type: 'text', text: 'Done.' }]);
      expect(message.model).toBe('claude-haiku-4-5');
    });

    it('translates tools, tool use and tool results both ways (OpenAI target)', async () => {
      harness.openai.setReply({ text: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
      const tools = [{ name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
      const first = await anthropic.messages.create({ model: 'msg.openai', max_tokens: 100, tools, tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: 'Weather in Paris?' }] });
      expect(first.stop_reason).toBe('tool_use');
      expect(first.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);
      expect(harness.openai.requests.at(-1)!.body).toMatchObject({ tool_choice: 'required',
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: tools[0]!.input_schema } }] });

      harness.openai.resetReply();
      await anthropic.messages.create({ model: 'msg.openai', max_tokens: 100, tools, messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18°C' }, { type: 'text', text: 'And tomorrow?' }] },
      ] });
      expect((harness.openai.requests.at(-1)!.body as { messages: unknown[] }).messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
      ]);
    });

    it('carries images to the target (base64 as a data: URL)', async () => {
      await anthropic.messages.create({ model: 'msg.openai', max_tokens: 50, messages: [{ role: 'user', content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'text', text: 'What is this?' }] }] });
      expect((harness.openai.requests.at(-1)!.body as { messages: Array<{ content: unknown }> }).messages[0]!.content).toEqual([
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'text', text: 'What is this?' }]);
    });
  });

  describe('streaming', () => {
    it('streams Anthropic\'s event sequence from an OpenAI target, and the SDK assembles the message', async () => {
      const stream = anthropic.messages.stream({ model: 'msg.openai', max_tokens: 100, messages: [{ role: 'user', content: 'Say hi' }] });
      const message = await stream.finalMessage();
      expect(message.content).toEqual([{ type: 'text', text: 'Hello from the emulator.' }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.output_tokens).toBe(6);

      const raw = await fetch(`${harness.url}/v1/messages`, {
        method: 'POST', headers: { 'x-api-key': harness.adminKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'msg.openai', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Say hi' }] }),
      });
      expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await raw.text();
      const names = eventNames(text);
      expect(names.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
      expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      expect(names.filter((name) => name === 'content_block_delta').length).toBeGreaterThan(0);
      expect(text).toMatch(/: zumik-outcome \{.*"completion":"completed".*\}\n\n$/s);
    });

    it('streams thinking, text and tool use from an Anthropic target', async () => {
      harness.anthropic.enqueueReplies({ thinking: 'Considering the tools.', text: 'Checking.', toolUses: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] });
      const stream = anthropic.messages.stream({ model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'Weather in Oslo?' }] });
      const message = await stream.finalMessage();
      expect(message.content).toEqual([
        { type: 'thinking', thinking: 'Considering the tools.', signature: signThinking('Considering the tools.') },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      expect(harness.anthropic.messageBodies.at(-1)!.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    });

    it('ends a stream that broke after its first token with event: error, never a truncated success', async () => {
      // The upstream sends content, then an error event: resume is off, so no continuation may hide it.
      harness.anthropic.enqueueReplies({ text: 'A long answer that will not finish.', chunkSize: 4, streamError: { afterEvents: 6, type: 'overloaded_error' } });
      const raw = await fetch(`${harness.url}/v1/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', 'x-zumik-stream-resume': 'off' },
        body: JSON.stringify({ model: 'msg.claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Say hi' }] }),
      });
      const text = await raw.text();
      const names = eventNames(text);
      expect(names).toContain('error');
      expect(names).not.toContain('message_stop');
      expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"[^"]+"\}\}/);
    });
  });

  describe('thinking (Claude Code\'s tool loop)', () => {
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const question = { role: 'user' as const, content: 'Weather in Oslo?' };

    it('gives an Anthropic target its signed thinking back verbatim on the next turn, and the signatures reach the client exactly (JSON)', async () => {
      harness.anthropic.enqueueReplies({ thinking: 'I should call the tool.', toolUses: [{ id: 'toolu_a', name: 'get_weather', input: { city: 'Oslo' } }] });
      const first = await anthropic.messages.create({ model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages: [question] });
      expect(first.content[0]).toEqual({ type: 'thinking', thinking: 'I should call the tool.', signature: signThinking('I should call the tool.') });
      harness.anthropic.enqueueReplies({ text: 'It is 3°C in Oslo.' });
      const second = await anthropic.messages.create({ model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages: [
        question, { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a', content: '3°C' }] },
      ] });
      expect(second.content).toEqual([{ type: 'thinking', thinking: DEFAULT_THINKING_TEXT, signature: signThinking(DEFAULT_THINKING_TEXT) },
        { type: 'text', text: 'It is 3°C in Oslo.' }]);
      // The emulator verified the signature (a changed block is a 400, as on Anthropic): the assistant turn went back block for block.
      expect((harness.anthropic.messageBodies.at(-1)!.messages as Array<{ content: unknown }>)[1]!.content).toEqual([
        { type: 'thinking', thinking: 'I should call the tool.', signature: signThinking('I should call the tool.') },
        { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Oslo' } },
      ]);
    });

    it('streams thinking_delta and signature_delta exactly, and the streamed blocks work as history (redacted thinking too)', async () => {
      harness.anthropic.enqueueReplies({ redactedThinking: 'secret', thinking: 'Tool first.', toolUses: [{ id: 'toolu_b', name: 'get_weather', input: { city: 'Oslo' } }] });
      const raw = await fetch(`${harness.url}/v1/messages`, {
        method: 'POST', headers: { 'x-api-key': harness.adminKey, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'msg.claude', max_tokens: 2048, stream: true, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages: [question] }),
      });
      const text = await raw.text();
      const events = [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, any>);
      const blockEvents = events.filter((event) => event.index !== undefined && event.index <= 1);
      expect(blockEvents).toEqual([
        { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: redactedThinkingData('secret') } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'Tool fir' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'st.' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'signature_delta', signature: signThinking('Tool first.') } },
        { type: 'content_block_stop', index: 1 },
      ]);

      harness.anthropic.enqueueReplies({ redactedThinking: 'secret', thinking: 'Tool first.', toolUses: [{ id: 'toolu_b', name: 'get_weather', input: { city: 'Oslo' } }] });
      const streamed = await anthropic.messages.stream({ model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages: [question] }).finalMessage();
      expect(streamed.content.slice(0, 2)).toEqual([
        { type: 'redacted_thinking', data: redactedThinkingData('secret') }, { type: 'thinking', thinking: 'Tool first.', signature: signThinking('Tool first.') }]);
      const next = await anthropic.messages.stream({ model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages: [
        question, { role: 'assistant', content: streamed.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_b', content: '3°C' }] },
      ] }).finalMessage();
      expect(next.content).toEqual([{ type: 'thinking', thinking: DEFAULT_THINKING_TEXT, signature: signThinking(DEFAULT_THINKING_TEXT) },
        { type: 'text', text: 'Hello from the Anthropic emulator.' }]);
    });

    it('a tampered signature is Anthropic\'s own 400, passed on in Anthropic\'s envelope', async () => {
      await expect(anthropic.messages.create({ model: 'msg.claude', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages: [
        question, { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should call the tool.', signature: 'forged' },
          { type: 'tool_use', id: 'toolu_c', name: 'get_weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_c', content: '3°C' }] },
      ] })).rejects.toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } });
    });

    it('on an OpenAI target: thinking becomes reasoning_effort, and signed thinking in the history is dropped (the model did not write it)', async () => {
      const answer = await anthropic.messages.create({ model: 'msg.reasoner', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 8000 }, tools, messages: [
        question, { role: 'assistant', content: [{ type: 'thinking', thinking: 'Claude thought this.', signature: 'sig' },
          { type: 'tool_use', id: 'toolu_d', name: 'get_weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_d', content: '3°C' }] },
      ] });
      expect(answer.content).toEqual([{ type: 'text', text: 'Hello from the emulator.' }]);
      const sent = harness.openai.requests.at(-1)!.body as { reasoning_effort?: string; thinking?: unknown; messages: Array<Record<string, unknown>> };
      expect(sent.reasoning_effort).toBe('medium');
      expect(sent.thinking).toBeUndefined();
      expect(sent.messages[1]).toEqual({ role: 'assistant', content: null,
        tool_calls: [{ id: 'toolu_d', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] });
      expect(JSON.stringify(sent)).not.toContain('Claude thought this.');
    });
  });

  describe('POST /v1/messages/count_tokens', () => {
    const body = { system: 'Be brief.', tools: [{ name: 'get_weather', input_schema: { type: 'object' as const } }],
      messages: [{ role: 'user' as const, content: 'How many tokens is this?' }] };

    it('asks Anthropic\'s own count_tokens for an Anthropic alias (no generation fields sent), through the Anthropic SDK', async () => {
      const { data, response } = await anthropic.messages.countTokens({ model: 'msg.claude', ...body }).withResponse();
      const sent = harness.anthropic.countTokensBodies.at(-1)!;
      expect(data).toEqual({ input_tokens: countInputTokens(sent) });
      expect(data.input_tokens).toBeGreaterThan(5);
      expect(sent).toMatchObject({ model: 'claude-haiku-4-5', system: [{ type: 'text', text: 'Be brief.' }] });
      expect(Object.keys(sent).sort()).toEqual(['messages', 'model', 'system', 'tools']);
      expect(harness.anthropic.messageBodies).toHaveLength(0);
      expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
      expect(response.headers.get('x-zumik-model')).toBe('claude-haiku-4-5');
      // An OpenAI standby (weight 0) does not change whose count it is.
      expect((await anthropic.messages.countTokens({ model: 'msg.failover', ...body })).input_tokens).toBe(data.input_tokens);
    });

    it('refuses an alias that a provider without a token-counting endpoint may serve: a 400 naming model and why, no estimate', async () => {
      const refused = anthropic.messages.countTokens({ model: 'msg.openai', ...body });
      await expect(refused).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      await expect(refused).rejects.toMatchObject({ error: { type: 'error', error: { type: 'invalid_request_error',
        message: expect.stringMatching(/^model: count_tokens is served only for aliases whose every weighted target is an Anthropic model.*openai\/gpt-4o-mini.*does not estimate/) } } });
      await expect(anthropic.messages.countTokens({ model: 'no.such.alias', ...body })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
      expect(harness.anthropic.countTokensBodies).toHaveLength(0);
      expect(harness.openai.requests).toHaveLength(0);
    });

    it('passes Anthropic\'s own 400 on in Anthropic\'s envelope (a forged thinking signature), and a 529 as overloaded', async () => {
      const forged = { model: 'msg.claude', messages: [{ role: 'user', content: 'q' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 'forged' }, { type: 'text', text: 'a' }] }, { role: 'user', content: 'more' }] };
      const post = (json: unknown) => fetch(`${harness.url}/v1/messages/count_tokens`, {
        method: 'POST', headers: { 'x-api-key': harness.adminKey, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      const answer = await post(forged);
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('Invalid `signature`') } });
      harness.anthropic.inject({ kind: 'status', status: 529 });
      const overloaded = await post({ model: 'msg.claude', messages: [{ role: 'user', content: 'q' }] });
      expect(overloaded.status).toBeGreaterThanOrEqual(500);
      expect(overloaded.headers.get('x-zumik-reason-code')).toBe('provider_overloaded');
    });
  });

  describe('failover across surfaces', () => {
    it('serves an Anthropic-format client from an OpenAI target when the Anthropic target fails (JSON and stream)', async () => {
      harness.anthropic.startOutage({ kind: 'status', status: 529 });
      try {
        const { data, response } = await anthropic.messages.create({ model: 'msg.failover', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        expect(data.content).toEqual([{ type: 'text', text: 'Hello from the emulator.' }]);
        expect(response.headers.get('x-zumik-provider')).toBe('openai');
        expect(response.headers.get('x-zumik-fallback-used')).toBe('true');

        const streamed = await anthropic.messages.stream({ model: 'msg.failover', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
        expect(streamed.content).toEqual([{ type: 'text', text: 'Hello from the emulator.' }]);

        await harness.zumik.client.workflow.getHandle(`req:default:${data.id}`).result();
        const outcome = await harness.call('GET', `/v2/requests/${data.id}`);
        expect(outcome.body).toMatchObject({ ingress: 'anthropic_messages', completion: 'completed', fallback_used: true, reason_code: 'ok_after_failover' });
        expect(outcome.body.attempts.map((attempt: { provider: string }) => attempt.provider)).toEqual(['anthropic', 'openai']);
      } finally {
        harness.anthropic.endOutage();
      }
    });

    it('serves an OpenAI-format client from an Anthropic target when the OpenAI target fails (JSON and stream)', async () => {
      const openai = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
      harness.openai.startOutage({ kind: 'status', status: 503 });
      try {
        const { data, response } = await openai.chat.completions.create({ model: 'chat.to-claude', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        expect(data.choices[0]!.message.content).toBe('Hello from the Anthropic emulator.');
        expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
        const stream = await openai.chat.completions.create({ model: 'chat.to-claude', stream: true, messages: [{ role: 'user', content: 'hi' }] });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toBe('Hello from the Anthropic emulator.');
        await harness.zumik.client.workflow.getHandle(`req:default:${data.id}`).result();
        expect((await harness.call('GET', `/v2/requests/${data.id}`)).body).toMatchObject({ ingress: 'openai_chat', fallback_used: true });
      } finally {
        harness.openai.endOutage();
      }
    });
  });

  describe('errors, in Anthropic\'s envelope', () => {
    const post = (body: unknown, headers: Record<string, string> = {}) => fetch(`${harness.url}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
    }).then(async (response) => ({ status: response.status, body: await response.json() as Record<string, any>, headers: response.headers }));

    it('authenticates with x-api-key or Authorization: Bearer; a bad key is a 401 authentication_error', async () => {
      const body = { model: 'msg.openai', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
      expect((await post(body, { 'x-api-key': harness.adminKey })).status).toBe(200);
      expect((await post(body, { authorization: `Bearer ${harness.adminKey}` })).status).toBe(200);
      const refused = await post(body, { 'x-api-key': 'zk_not_a_key' });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      await expect(new Anthropic({ baseURL: harness.url, apiKey: 'zk_wrong', maxRetries: 0 }).messages.create(
        { model: 'msg.openai', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    });

    it('answers bad or untranslatable input with a 400 invalid_request_error naming the field', async () => {
      const key = { 'x-api-key': harness.adminKey };
      const cases: Array<[unknown, string]> = [
        [{ model: 'msg.openai', messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens'],
        [{ model: 'msg.openai', max_tokens: 10, top_k: 5, messages: [{ role: 'user', content: 'hi' }] }, 'top_k'],
        [{ model: 'msg.openai', max_tokens: 10, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'hi' }] }, 'tools[0].type'],
        [{ model: 'msg.openai', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } }] }] }, 'messages[0].content[0].source'],
        ['{"model": "msg.openai", "max_tokens": ', ''],
      ];
      for (const [body, field] of cases) {
        const answer = await post(body, key);
        expect(answer.status).toBe(400);
        expect(answer.body.type).toBe('error');
        expect(answer.body.error.type).toBe('invalid_request_error');
        expect(answer.body.error.message).toContain(field);
      }
      expect(harness.openai.requests).toHaveLength(0);
      // This SDK's types no longer list top_k; older clients still send it.
      const withTopK = { model: 'msg.openai', max_tokens: 10, top_k: 3, messages: [{ role: 'user' as const, content: 'hi' }] };
      await expect(anthropic.messages.create(withTopK)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    });

    it('answers an unknown alias with a 404 not_found_error', async () => {
      const answer = await post({ model: 'no.such.alias', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': harness.adminKey });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
      expect(answer.headers.get('x-zumik-reason-code')).toBe('unknown_alias');
    });
  });
});
