import { createAnthropicHttpError, createAnthropicStreamError, kindFromAnthropicStatus } from '../../src/providers/anthropic/anthropic-error';

const body = (type: string, message = 'x', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'error', error: { type, message, ...extra }, request_id: 'req_body' });

describe('createAnthropicHttpError', () => {
  it.each([
    ['overloaded_error', 529, 'overloaded'],
    ['rate_limit_error', 429, 'rate_limit'],
    ['authentication_error', 401, 'auth'],
    ['permission_error', 403, 'auth'],
    ['not_found_error', 404, 'model_not_found'],
    ['invalid_request_error', 400, 'invalid_request'],
    ['request_too_large', 413, 'context_length'],
    ['api_error', 500, 'upstream_unavailable'],
    ['timeout_error', 504, 'upstream_unavailable'],
    ['billing_error', 402, 'quota'],
  ])('classifies %s (%i) as %s', (type, status, kind) => {
    const error = createAnthropicHttpError(status, {}, body(type));
    expect(error).toMatchObject({ kind, status, providerCode: type, provider: 'anthropic' });
  });

  it('classifies from the body before the status', () => {
    expect(createAnthropicHttpError(500, {}, body('overloaded_error')).kind).toBe('overloaded');
  });

  it('reads an over-long prompt from the message text of an invalid_request_error', () => {
    const error = createAnthropicHttpError(400, {}, body('invalid_request_error', 'prompt is too long: 208310 tokens > 200000 maximum'));
    expect(error.kind).toBe('context_length');
  });

  it('treats a spend-limit 429 as quota: waiting does not help', () => {
    const error = createAnthropicHttpError(429, {}, body('rate_limit_error', 'limit', { details: { error_code: 'enforced_spend_limit_reached' } }));
    expect(error.kind).toBe('quota');
  });

  it('falls back to the status when the body is not Anthropic JSON', () => {
    expect(createAnthropicHttpError(529, {}, '<html>busy</html>')).toMatchObject({ kind: 'overloaded', providerCode: undefined });
    expect(createAnthropicHttpError(502, {}, '').kind).toBe('upstream_unavailable');
  });

  it('captures Retry-After, anthropic-ratelimit-* headers and the request-id', () => {
    const error = createAnthropicHttpError(429, {
      'retry-after': '7', 'request-id': 'req_header', 'anthropic-ratelimit-requests-remaining': '0', 'content-type': 'application/json',
    }, body('rate_limit_error'));
    expect(error).toMatchObject({ retryAfterMs: 7000, providerRequestId: 'req_header', rateLimit: { 'anthropic-ratelimit-requests-remaining': '0' } });
    expect(createAnthropicHttpError(429, {}, body('rate_limit_error')).providerRequestId).toBe('req_body');
  });

  it('never repeats the API key, even when the provider echoes it', () => {
    const error = createAnthropicHttpError(401, {}, body('authentication_error', 'invalid x-api-key sk-ant-secret-123456'), { apiKey: 'sk-ant-secret-123456' });
    expect(error.message).not.toContain('sk-ant-secret-123456');
    expect(error.message).toContain('authentication_error');
  });
});

describe('createAnthropicStreamError', () => {
  it('classifies a mid-stream overloaded_error as retryable overloaded', () => {
    const error = createAnthropicStreamError({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { afterFirstToken: true });
    expect(error).toMatchObject({ kind: 'overloaded', providerCode: 'overloaded_error', afterFirstToken: true, retryable: true });
  });

  it('reports an error event it cannot read as bad_response', () => {
    expect(createAnthropicStreamError({ type: 'error' }, { afterFirstToken: false }).kind).toBe('bad_response');
  });
});

describe('kindFromAnthropicStatus', () => {
  it.each([[400, 'invalid_request'], [401, 'auth'], [402, 'quota'], [404, 'model_not_found'], [408, 'timeout'], [409, 'unknown'], [413, 'context_length'], [429, 'rate_limit'], [503, 'upstream_unavailable'], [529, 'overloaded']])(
    '%i → %s', (status, kind) => {
      expect(kindFromAnthropicStatus(status)).toBe(kind);
    });
});
