/**
 * Property-based tests (fast-check, fixed seed; ZUMIK_FUZZ_SEED overrides) of the pure functions
 * that see untrusted input first: the wire contract, the domain's planning and error table, and the
 * pure edge helpers (body inspection, jsonb text, filenames, parser answers).
 */
import http from 'node:http';
import fc from 'fast-check';
import { chatRequestSchema } from '../../src/contract/chat-request-schema';
import { errorEnvelope, formatParam } from '../../src/contract/error-envelope';
import { JSON_MAX_DEPTH, MODEL_MAX_LENGTH } from '../../src/contract/limits';
import { buildAttemptPlan, circuitKey, seededRandom } from '../../src/domain/attempt-plan';
import { aliasProblem, ALIAS_PATTERN, installReleaseSchema, type ModelAliasRelease } from '../../src/domain/model-alias';
import { outcomeErrorShape } from '../../src/domain/reason-code-errors';
import { REASON_CODES, type ReasonCode } from '../../src/domain/reason-codes';
import { tenantPolicySchema } from '../../src/domain/tenant-policy';
import { clientErrorResponse } from '../../src/server/client-error';
import { fromZodError, HttpError } from '../../src/server/errors';
import { inspectJsonBody } from '../../src/server/middleware/json-body-guard';
import { storedFilename } from '../../src/server/multipart-upload';
import { contentDisposition } from '../../src/server/routes/files';
import { jsonb } from '../../src/store/jsonb';

const parameters = { seed: Number(process.env.ZUMIK_FUZZ_SEED ?? 17_017), numRuns: 500 };
const wellFormed = (text: string) => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Strings with lone surrogates, NUL and control characters as likely as anything else. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(fc.constantFrom('\ud800', '\udfff', '\u0000', '\u0001', '\u007f', '"', '\\', '%'), fc.string({ minLength: 1, maxLength: 1 })) }),
);
const json = fc.jsonValue({ maxDepth: 6 }).chain((value) => fc.constant(value));
/** Any JSON value, with strings drawn from `text` (so with lone surrogates and NUL). */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, fc.double(), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(text, tie('value'), { maxKeys: 4 })),
})).value;

function everyString(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((item) => everyString(item, visit));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) { visit(key); everyString(item, visit); }
}

function depthOf(value: unknown): number {
  if (!value || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('contract', () => {
  it('chatRequestSchema never throws, and what it accepts has a usable model', () => {
    fc.assert(fc.property(fc.oneof(hostileJson, fc.record({ model: text, messages: fc.array(fc.record({ role: fc.constantFrom('user', 'system'), content: text })) })), (body) => {
      const result = chatRequestSchema.safeParse(body);
      if (!result.success) {
        const error = fromZodError(result.error);
        expect(error.status).toBe(400);
        expect(error.param === null || typeof error.param === 'string').toBe(true);
        return;
      }
      expect(result.data.model.length).toBeGreaterThan(0);
      expect(result.data.model.length).toBeLessThanOrEqual(MODEL_MAX_LENGTH);
      // eslint-disable-next-line no-control-regex
      expect(/[\u0000-\u001f\u007f]/.test(result.data.model)).toBe(false);
    }), parameters);
  });

  it('formatParam names any zod path and the envelope always has its four fields', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.nat())), text, (path, message) => {
      const param = formatParam(path);
      expect(param === null || typeof param === 'string').toBe(true);
      expect(Object.keys(errorEnvelope(message, 'invalid_request_error', param, null).error)).toEqual(['message', 'type', 'param', 'code']);
    }), parameters);
  });
});

describe('domain', () => {
  const target = fc.record({
    execution_profile: fc.constant('managed_provider' as const), provider: fc.constantFrom('openai', 'anthropic', 'gemini'),
    model: fc.string({ minLength: 1, maxLength: 8 }), model_revision: fc.constant('1'), weight: fc.nat({ max: 5 }),
  });
  const release = fc.array(target, { minLength: 1, maxLength: 5 }).filter((targets) => targets.some((entry) => entry.weight > 0))
    .map((targets): ModelAliasRelease => ({ id: 'alr_x', object: 'model_alias_release', alias: 'a', status: 'active', policy_revision: 'p',
      capability_manifest_revision: 'c', targets, created_at: 0 }));

  it('buildAttemptPlan: the same release and request id give the same plan; every target is planned or skipped once per region, one primary at most', () => {
    fc.assert(fc.property(release, fc.string(), fc.subarray(['openai', 'anthropic', 'gemini']), (given, requestId, broken) => {
      const context = () => ({
        random: seededRandom(requestId), regions: { openai: ['us', 'eu'] }, contextWindow: () => undefined,
        openCircuits: new Set(given.targets.filter((entry) => broken.includes(entry.provider)).map((entry) => circuitKey(entry.provider, 'default', entry.model))),
      });
      const plan = buildAttemptPlan(given, context());
      expect(buildAttemptPlan(given, context())).toEqual(plan);
      const slots = given.targets.reduce((sum, entry) => sum + (entry.provider === 'openai' ? 2 : 1), 0);
      expect(plan.candidates.length + plan.skipped.length).toBe(slots);
      for (const candidate of plan.candidates) expect(given.targets.some((entry) => entry.provider === candidate.provider && entry.model === candidate.model)).toBe(true);
      // With nothing skipped, the plan opens with its weighted first choice (a skipped first choice leaves only failovers).
      if (plan.skipped.length === 0) expect(plan.candidates[0]!.role).toBe('primary');
      expect(plan.candidates.filter((candidate) => candidate.role === 'primary').length).toBeLessThanOrEqual(1);
    }), parameters);
  });

  it('aliasProblem accepts exactly the alias pattern, and never throws', () => {
    fc.assert(fc.property(fc.oneof(text, fc.stringMatching(ALIAS_PATTERN)), (alias) => {
      expect(aliasProblem(alias) === undefined).toBe(ALIAS_PATTERN.test(alias));
    }), parameters);
  });

  it('release and tenant-policy schemas never throw on any JSON', () => {
    fc.assert(fc.property(hostileJson, (body) => {
      expect(() => installReleaseSchema.safeParse(body)).not.toThrow();
      expect(() => tenantPolicySchema.safeParse(body)).not.toThrow();
    }), parameters);
  });

  it('every reason code maps to a 4xx or 5xx in the OpenAI envelope', () => {
    fc.assert(fc.property(fc.constantFrom(...(Object.keys(REASON_CODES) as ReasonCode[])), fc.string(), (reason, id) => {
      const shape = outcomeErrorShape({ id, reason_code: reason });
      expect(shape.status).toBeGreaterThanOrEqual(400);
      expect(shape.status).toBeLessThan(600);
      expect(shape.envelope.error).toEqual({ message: expect.stringContaining(reason), type: expect.any(String), param: shape.param ?? null, code: shape.code });
    }), parameters);
  });
});

describe('edge helpers', () => {
  it('inspectJsonBody: a 400 or a body of well-formed strings, unchanged when it was already clean', () => {
    fc.assert(fc.property(fc.oneof(hostileJson, json), (value) => {
      const before = JSON.stringify(value);
      let result: unknown;
      try {
        result = inspectJsonBody(JSON.parse(before));
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        expect((error as HttpError).status).toBe(400);
        return;
      }
      everyString(result, (string) => expect(wellFormed(string)).toBe(true));
      let clean = true;
      everyString(value, (string) => { clean &&= wellFormed(string) && !string.includes('\u0000'); });
      if (clean) expect(JSON.stringify(result)).toBe(before);
    }), parameters);
  });

  it('inspectJsonBody refuses nesting beyond the limit and only that', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 * JSON_MAX_DEPTH }), (depth) => {
      let value: unknown = 1;
      for (let level = 0; level < depth; level += 1) value = level % 2 ? [value] : { a: value };
      const refused = (() => { try { inspectJsonBody(value); return false; } catch { return true; } })();
      expect(refused).toBe(depthOf(value) > JSON_MAX_DEPTH);
    }), { ...parameters, numRuns: 200 });
  });

  it('jsonb: always JSON Postgres accepts (no NUL, no lone surrogate escapes), equal to JSON.stringify for clean values', () => {
    fc.assert(fc.property(fc.oneof(hostileJson, json), (value) => {
      const textValue = jsonb(value);
      const parsed = JSON.parse(textValue);
      expect(/(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f])/i.test(textValue)).toBe(false);
      everyString(parsed, (string) => expect(wellFormed(string) && !string.includes('\u0000')).toBe(true));
      let clean = true;
      everyString(value, (string) => { clean &&= wellFormed(string) && !string.includes('\u0000'); });
      if (clean) expect(textValue).toBe(JSON.stringify(value));
    }), parameters);
  });

  it('storedFilename and contentDisposition: any name is stored well-formed and served in a valid header', () => {
    fc.assert(fc.property(fc.option(text, { nil: undefined }), (given) => {
      const stored = storedFilename(given);
      expect(stored.length).toBeGreaterThan(0);
      expect(Array.from(stored).length).toBeLessThanOrEqual(255);
      expect(wellFormed(stored)).toBe(true);
      expect(() => http.validateHeaderValue('content-disposition', contentDisposition(stored))).not.toThrow();
      expect(decodeURIComponent(/filename\*=UTF-8''(\S+)$/.exec(contentDisposition(stored))![1]!)).toBe(stored);
    }), parameters);
  });

  it('clientErrorResponse: a complete HTTP answer whose body is the envelope, for any parser error code', () => {
    fc.assert(fc.property(fc.oneof(fc.constantFrom('HPE_HEADER_OVERFLOW', 'HPE_INVALID_METHOD', 'ERR_HTTP_REQUEST_TIMEOUT'), fc.string(), fc.constant(undefined)), (code) => {
      const answer = clientErrorResponse(code);
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 (400|408|431) /);
      expect(head).toContain(`content-length: ${Buffer.byteLength(body)}`);
      expect(JSON.parse(body)).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: expect.any(String) } });
    }), parameters);
  });
});
