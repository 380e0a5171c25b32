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
