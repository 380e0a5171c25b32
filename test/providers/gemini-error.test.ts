import { classifyGeminiErrorBody, geminiErrorFromBody, geminiErrorFromText, parseGeminiErrorBody, parseRetryDelay, redactSecrets } from '../../src/providers/gemini/gemini-error';
import { loadGeminiJson } from './gemini-fixtures';

const body = (status: string, details: unknown[] = []) => ({ error: { code: 400, message: 'm', status, details } });

describe('geminiErrorFromBody', () => {
  it('maps the recorded 429 RESOURCE_EXHAUSTED to a rate_limit with RetryInfo as retryAfterMs', () => {
    const error = geminiErrorFromBody(loadGeminiJson('google-429-retry-info'), { status: 429, headers: {} });
    expect(error).toMatchObject({ kind: 'rate_limit', status: 429, providerCode: 'RESOURCE_EXHAUSTED', retryAfterMs: 34_400, provider: 'gemini' });
    expect(error.retryable).toBe(true);
  });

  it('prefers RetryInfo over Retry-After, and uses Retry-After when RetryInfo is absent', () => {
    expect(geminiErrorFromBody(loadGeminiJson('google-429-retry-info'), { status: 429, headers: { 'retry-after': '5' } }).retryAfterMs).toBe(34_400);
    expect(geminiErrorFromBody(body('RESOURCE_EXHAUSTED'), { status: 429, headers: { 'retry-after': '5' } }).retryAfterMs).toBe(5000);
  });

  it('keeps the upstream message but never the key', () => {
    const error = geminiErrorFromBody({ error: { code: 400, status: 'INVALID_ARGUMENT', message: 'bad key secret-key-123 and AIzaSyA1234567890abcdefghijklmnopqrstu' } },
      { status: 400, apiKey: 'secret-key-123' });
    expect(error.message).toContain('HTTP 400 INVALID_ARGUMENT');
    expect(error.message).not.toContain('secret-key-123');
    expect(error.message).not.toContain('AIzaSy');
  });
});

describe('classifyGeminiErrorBody', () => {
  it.each([
    ['UNAUTHENTICATED', 401, 'auth'], ['PERMISSION_DENIED', 403, 'auth'], ['NOT_FOUND', 404, 'model_not_found'],
    ['INVALID_ARGUMENT', 400, 'invalid_request'], ['FAILED_PRECONDITION', 400, 'quota'], ['UNAVAILABLE', 503, 'upstream_unavailable'],
    ['INTERNAL', 500, 'upstream_unavailable'], ['DEADLINE_EXCEEDED', 504, 'timeout'], ['RESOURCE_EXHAUSTED', 429, 'rate_limit'],
  ])('maps %s to its kind', (status, httpStatus, kind) => {
    expect(classifyGeminiErrorBody(parseGeminiErrorBody(body(status)), httpStatus)).toBe(kind);
  });

  it('classifies Google\'s bad-key 400 (ErrorInfo API_KEY_INVALID) as auth, not invalid_request', () => {
    const parsed = parseGeminiErrorBody(body('INVALID_ARGUMENT', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }]));
    expect(classifyGeminiErrorBody(parsed, 400)).toBe('auth');
  });

  it('classifies a daily or zero-limit quota violation as quota (waiting does not help)', () => {
    const violation = (quotaId: string, quotaValue = '50') => parseGeminiErrorBody(body('RESOURCE_EXHAUSTED', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId, quotaValue }] }]));
    expect(classifyGeminiErrorBody(violation('GenerateRequestsPerDayPerProjectPerModel-FreeTier'), 429)).toBe('quota');
    expect(classifyGeminiErrorBody(violation('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', '0'), 429)).toBe('quota');
    expect(classifyGeminiErrorBody(violation('GenerateRequestsPerMinutePerProjectPerModel-FreeTier'), 429)).toBe('rate_limit');
  });

  it('falls back to the HTTP status when the body is not Google\'s', () => {
    expect(classifyGeminiErrorBody(undefined, 503)).toBe('upstream_unavailable');
    expect(classifyGeminiErrorBody(undefined, 429)).toBe('rate_limit');
    expect(classifyGeminiErrorBody(undefined, 403)).toBe('auth');
    expect(classifyGeminiErrorBody(parseGeminiErrorBody(body('SOMETHING_NEW')), 400)).toBe('invalid_request');
  });
});

describe('geminiErrorFromText', () => {
  it('classifies an HTML error page by status', () => {
    expect(geminiErrorFromText('<html>Bad Gateway</html>', { status: 502 })).toMatchObject({ kind: 'upstream_unavailable', status: 502 });
  });

  it('accepts the one-element array Google wraps stream errors in', () => {
    expect(geminiErrorFromText(JSON.stringify([body('UNAVAILABLE')]), { status: 503 }).providerCode).toBe('UNAVAILABLE');
  });
});

describe('parseRetryDelay', () => {
  it('reads protobuf durations and ignores other details', () => {
    expect(parseRetryDelay([{ '@type': 'x.Help' }, { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '27s' }])).toBe(27_000);
    expect(parseRetryDelay([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.5s' }])).toBe(500);
    expect(parseRetryDelay([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: 'soon' }])).toBeUndefined();
  });
});

describe('redactSecrets', () => {
  it('removes the given key and Google-shaped keys', () => {
    expect(redactSecrets('k=abcd1234 AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI', 'abcd1234')).toBe('k=[redacted] [redacted]');
  });
});
