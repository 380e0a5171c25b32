/**
 * Every built-in provider through the whole Zumik (front door → chatRequestWorkflow → attempt
 * activity → adapter → emulator, real Temporal and Postgres): a plain and a streamed completion on
 * OpenAI, Anthropic, Gemini, xAI and Fireworks, each on the provider's own wire path and auth, with
 * the served model, usage and price recorded in the outcome; and `prediction` (speculative decoding)
 * passed through with its usage fields.
 */
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import type { ReceivedRequest } from '../emulators/emulator-kit';
import { chat, outcomeCommentOf, sseData, waitForRecorded } from './request-path-helpers';
import { ZumikOpenApi } from '../support/zumik-openapi-validator';

type Emulated = { requests: readonly ReceivedRequest[]; reset(): unknown };

interface Case {
  provider: string;
  model: string;
  /** The emulator that must have received the call, and how it recognises the provider's wire format. */
  emulator: (harness: Harness) => Emulated;
  path: RegExp;
  auth: (request: ReceivedRequest) => unknown;
}

const bearer = (request: ReceivedRequest) => request.headers.authorization;
const CASES: Case[] = [
  { provider: 'openai', model: 'gpt-5.4-mini', emulator: (harness) => harness.openai, path: /^\/v1\/chat\/completions$/, auth: bearer },
  { provider: 'anthropic', model: 'claude-sonnet-5', emulator: (harness) => harness.anthropic, path: /^\/v1\/messages$/, auth: (request) => request.headers['x-api-key'] },
  { provider: 'gemini', model: 'gemini-3.5-flash', emulator: (harness) => harness.gemini, path: /^\/v1beta\/models\/gemini-3\.5-flash:(generate|streamGenerate)Content$/,
    auth: (request) => request.headers['x-goog-api-key'] },
  { provider: 'xai', model: 'grok-4.3', emulator: (harness) => harness.xai, path: /^\/v1\/chat\/completions$/, auth: bearer },
  { provider: 'fireworks', model: 'accounts/fireworks/models/gpt-oss-120b', emulator: (harness) => harness.fireworks, path: /^\/inference\/v1\/chat\/completions$/, auth: bearer },
];

const aliasOf = (provider: string) => `e2e.${provider}`;

describe('every provider end to end through the workflow', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    for (const { provider, model } of CASES) await harness.installAlias(aliasOf(provider), [target(provider, model)]);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(() => {
    for (const { emulator } of CASES) emulator(harness).reset();
  });

  const received = (testCase: Case) => testCase.emulator(harness).requests.filter((request) => testCase.path.test(request.path));

  describe.each(CASES)('$provider', (testCase) => {
    it('answers a plain completion from the provider, with the outcome, usage and cost recorded', async () => {
      const response = await chat(harness, { model: aliasOf(testCase.provider) });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: expect.any(String) } }] });
      expect(response.body.choices[0].message.content.length).toBeGreaterThan(0);
      expect(response.headers.get('x-zumik-provider')).toBe(testCase.provider);
      expect(response.headers.get('x-zumik-reason-code')).toBe('ok');
      const calls = received(testCase);
      expect(calls).toHaveLength(1);
      expect(String(testCase.auth(calls[0]!))).toContain(EMULATOR_KEY);
      const outcome = await waitForRecorded(harness, response.body.id);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok', fallback_used: false });
      expect(outcome.attempts).toEqual([expect.objectContaining({
        provider: testCase.provider, model: testCase.model, execution_profile: 'managed_provider', status: 'succeeded', http_status: 200,
      })]);
      expect(outcome.usage.prompt_tokens).toBeGreaterThan(0);
      expect(outcome.usage.completion_tokens).toBeGreaterThan(0);
      expect(outcome.cost_usd).toBeGreaterThan(0);
      // Nothing was left out, so nothing is reported.
      expect(response.headers.get('x-zumik-warnings')).toBeNull();
      expect(outcome.attempts[0]).not.toHaveProperty('warnings');
    });

    it('streams a completion from the provider, ending with the outcome comment', async () => {
      const response = await chat(harness, { model: aliasOf(testCase.provider), stream: true, stream_options: { include_usage: true } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-provider')).toBe(testCase.provider);
      const chunks = sseData(response.text).filter((data) => typeof data === 'object');
      const text = chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('');
      expect(text.length).toBeGreaterThan(0);
      expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
      expect(response.text).toMatch(/data: \[DONE\]\n\n$/);
      expect(outcomeCommentOf(response.text)).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      expect(received(testCase)).toHaveLength(1);
    });
  });

  describe('settings a target cannot honour are reported, never dropped silently', () => {
    it('a plain answer names them in x-zumik-warnings and the attempt lists them with their messages', async () => {
      // Gemini has no logit bias: the request is served without it, and says so.
      const response = await chat(harness, { model: aliasOf('gemini'), logit_bias: { '50256': -100 } });
      expect(response.status).toBe(200);
      expect(received(CASES[2]!)[0]!.body).not.toHaveProperty('logit_bias');
      expect(response.headers.get('x-zumik-warnings')).toBe('unsupported-setting=logit_bias');
      const outcome = await waitForRecorded(harness, response.body.id);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      expect(outcome.attempts[0].warnings).toEqual([{ type: 'unsupported-setting', setting: 'logit_bias', message: 'Gemini has no logit bias' }]);
      // The native surface carries the same outcome in the body.
      const native = await harness.call('GET', `/v2/requests/${response.body.id}`);
      expect(native.body.attempts[0].warnings).toEqual(outcome.attempts[0].warnings);
      // As documented in /openapi.json.
      const api = new ZumikOpenApi(await (await fetch(`${harness.url}/openapi.json`)).json());
      expect(api.document.components.schemas.AttemptRecord.properties.warnings).toBeDefined();
      expect(api.validateResponse('GET', '/v2/requests/{id}', native.status, native.body)).toEqual([]);
    });

    it('a stream lists them in its closing outcome comment and in the recorded attempt', async () => {
      const response = await chat(harness, { model: aliasOf('gemini'), stream: true, logprobs: true, logit_bias: { '50256': -100 } });
      expect(response.status).toBe(200);
      const warnings = [
        { type: 'unsupported-setting', setting: 'logit_bias', message: 'Gemini has no logit bias' },
        { type: 'unsupported-setting', setting: 'logprobs', message: 'log probabilities are not returned for Gemini' },
      ];
      expect(outcomeCommentOf(response.text)).toMatchObject({ completion: 'completed', warnings });
      const requestId = response.headers.get('x-zumik-request-id')!;
      expect((await waitForRecorded(harness, requestId)).attempts[0].warnings).toEqual(warnings);
    });

    it('the same setting is reported where the target leaves it out and not where it is honoured', async () => {
      // OpenAI's reasoning models refuse logit_bias: the adapter leaves it out, and says so.
      const openai = await chat(harness, { model: aliasOf('openai'), logit_bias: { '50256': -100 } });
      expect(openai.status).toBe(200);
      expect(received(CASES[0]!)[0]!.body).not.toHaveProperty('logit_bias');
      expect(openai.headers.get('x-zumik-warnings')).toBe('unsupported-setting=logit_bias');
      expect((await waitForRecorded(harness, openai.body.id)).attempts[0].warnings).toEqual([
        { type: 'unsupported-setting', setting: 'logit_bias', message: 'gpt-5.4-mini is a reasoning model and does not accept logit_bias; removed' },
      ]);
      // Fireworks takes it as sent: nothing to report.
      const fireworks = await chat(harness, { model: aliasOf('fireworks'), logit_bias: { '50256': -100 } });
      expect(fireworks.status).toBe(200);
      expect(received(CASES[4]!)[0]!.body).toMatchObject({ logit_bias: { '50256': -100 } });
      expect(fireworks.headers.get('x-zumik-warnings')).toBeNull();
      expect((await waitForRecorded(harness, fireworks.body.id)).attempts[0]).not.toHaveProperty('warnings');
    });
  });

  describe('prediction (speculative decoding)', () => {
    it('passes the predicted output to OpenAI and reports the accepted and rejected prediction tokens', async () => {
      harness.openai.setReply({ acceptedPredictionTokens: 4, rejectedPredictionTokens: 2 });
      try {
        const prediction = { type: 'content', content: 'Hello from the emulator.' };
        const response = await chat(harness, { model: aliasOf('openai'), prediction });
        expect(response.status).toBe(200);
        expect(received(CASES[0]!)[0]!.body).toMatchObject({ prediction });
        expect(response.body.usage.completion_tokens_details).toMatchObject({ accepted_prediction_tokens: 4, rejected_prediction_tokens: 2 });
        const outcome = await waitForRecorded(harness, response.body.id);
        expect(outcome.usage.completion_tokens_details).toMatchObject({ accepted_prediction_tokens: 4, rejected_prediction_tokens: 2 });
      } finally {
        harness.openai.resetReply();
      }
    });

    it('passes the predicted output to Fireworks', async () => {
      const prediction = { type: 'content', content: [{ type: 'text', text: 'def main():' }] };
      const response = await chat(harness, { model: aliasOf('fireworks'), prediction });
      expect(response.status).toBe(200);
      expect(received(CASES[4]!)[0]!.body).toMatchObject({ prediction });
    });

    it('refuses a malformed prediction with a 400 naming the field', async () => {
      const response = await chat(harness, { model: aliasOf('openai'), prediction: { type: 'guess', content: 'x' } });
      expect(response.status).toBe(400);
      expect(response.body.error.param).toBe('prediction.type');
      expect(received(CASES[0]!)).toHaveLength(0);
    });
  });
});
