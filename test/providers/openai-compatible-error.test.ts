import {
  classifyOpenAICompatibleFailure, openAICompatibleFailure, parseOpenAICompatibleErrorBody, redactSecrets,
} from '../../src/providers/openai-compatible/openai-compatible-error';
import { FLAVOUR_PRESETS } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import { loadOpenAICompatibleJson } from '../emulators/openai-compatible-fixtures';

const openai = FLAVOUR_PRESETS.openai;

describe('parseOpenAICompatibleErrorBody', () => {
  it('reads OpenAI’s nested body (recorded reasoning-model-legacy-parameter-error.json)', () => {
    const body = loadOpenAICompatibleJson('openai/reasoning-model-legacy-parameter-error.json');

    expect(parseOpenAICompatibleErrorBody(body)).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: 'max_tokens' });
  });

  it('reads xAI’s flat body, vLLM’s flat body and OpenRouter’s numeric code', () => {
    expect(parseOpenAICompatibleErrorBody({ code: 'not-found', error: 'Batch not found' })).toEqual({ message: 'Batch not found', code: 'not-found' });
    expect(parseOpenAICompatibleErrorBody({ object: 'error', message: 'bad', type: 'BadRequestError', param: null, code: 400 }))
      .toEqual({ message: 'bad', type: 'BadRequestError', statusCode: 400 });
    expect(parseOpenAICompatibleErrorBody({ error: { code: 402, message: 'credits', metadata: {} } })).toMatchObject({ statusCode: 402, message: 'credits' });
  });

  it('returns nothing for plain text and unrelated JSON', () => {
    expect(parseOpenAICompatibleErrorBody('system saturated')).toBeUndefined();
    expect(parseOpenAICompatibleErrorBody({ detail: 'x' })).toBeUndefined();
  });
});

describe('classifyOpenAICompatibleFailure', () => {
  it.each([
    ['rate_limit_exceeded', 429, 'rate_limit'], ['insufficient_quota', 429, 'quota'], ['context_length_exceeded', 400, 'context_length'],
    ['invalid_api_key', 401, 'auth'], ['model_not_found', 404, 'model_not_found'], ['content_filter', 400, 'content_filter'],
    ['content_policy_violation', 400, 'content_filter'], ['unsupported_parameter', 400, 'invalid_request'], ['invalid-api-key', 400, 'auth'],
  ] as const)('code %s wins over status %i: %s', (code, status, kind) => {
    expect(classifyOpenAICompatibleFailure({ code }, status, openai)).toBe(kind);
  });

  it('uses a specific type but leaves generic ones to the status', () => {
    expect(classifyOpenAICompatibleFailure({ type: 'insufficient_quota' }, 429, openai)).toBe('quota');
    expect(classifyOpenAICompatibleFailure({ type: 'server_error' }, 408, openai)).toBe('timeout');
    expect(classifyOpenAICompatibleFailure({ type: 'invalid_request_error' }, 401, openai)).toBe('auth');
  });

  it.each([
    [400, 'invalid_request'], [401, 'auth'], [403, 'auth'], [404, 'model_not_found'], [408, 'timeout'], [409, 'upstream_unavailable'],
    [413, 'context_length'], [429, 'rate_limit'], [500, 'upstream_unavailable'], [503, 'upstream_unavailable'], [529, 'overloaded'], [418, 'invalid_request'],
  ] as const)('status %i alone is %s', (status, kind) => {
    expect(classifyOpenAICompatibleFailure(undefined, status, openai)).toBe(kind);
  });

  it('applies the endpoint picker’s meanings: 429 is load shed, 503 no ready endpoint', () => {
    expect(classifyOpenAICompatibleFailure(undefined, 429, FLAVOUR_PRESETS.byoc_epp)).toBe('overloaded');
    expect(classifyOpenAICompatibleFailure(undefined, 503, FLAVOUR_PRESETS.byoc_epp)).toBe('upstream_unavailable');
    expect(classifyOpenAICompatibleFailure(undefined, 429, FLAVOUR_PRESETS.byoc_dynamo)).toBe('rate_limit');
  });

  it('classifies a mid-stream error without status by its numeric code, else as upstream_unavailable', () => {
    expect(classifyOpenAICompatibleFailure({ statusCode: 429 }, undefined, openai)).toBe('rate_limit');
    expect(classifyOpenAICompatibleFailure({ message: 'boom' }, undefined, openai)).toBe('upstream_unavailable');
  });
});

describe('openAICompatibleFailure', () => {
  it('carries Retry-After, rate-limit headers and request id, never the key', () => {
    const error = openAICompatibleFailure({ provider: 'openai', flavour: openai, apiKey: 'sk-live-secret-123456' }, {
      status: 429,
      headers: { 'retry-after': '3', 'x-ratelimit-remaining-tokens': '0', 'x-request-id': 'req_1' },
      body: { error: { message: 'Rate limited for key sk-live-secret-123456', type: 'requests', code: 'rate_limit_exceeded', param: null } },
    });

    expect(error).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 3000, providerRequestId: 'req_1', rateLimit: { 'x-ratelimit-remaining-tokens': '0' } });
    expect(error.message).not.toContain('secret');
  });
});

describe('redactSecrets', () => {
  it('removes the exact key, key-shaped tokens, bearer values and echoed masked keys', () => {
    expect(redactSecrets('key abcd1234wxyz used', 'abcd1234wxyz')).toBe('key [redacted] used');
    expect(redactSecrets('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(redactSecrets('Incorrect API key provided: xa***yz. See docs')).toBe('Incorrect API key provided: [redacted]. See docs');
    expect(redactSecrets('token sk-proj-AbCdEf123456 leaked')).toBe('token [redacted] leaked');
  });
});
