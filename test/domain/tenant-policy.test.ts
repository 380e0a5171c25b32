import { ZodError } from 'zod';
import { DEFAULT_QOS } from '../../src/domain/qos';
import {
  contentFilterFailover, DEFAULT_TENANT_POLICY, parseTenantPolicy, streamResume, tenantPolicySchema, tenantPolicyToJson, tenantQosProfile, tenantRetryPolicy,
} from '../../src/domain/tenant-policy';
import { policySnapshot } from '../../src/domain/request-planning';
import { DEFAULT_RETRY_POLICY } from '../../src/domain/retry-decision';

function issueOf(json: unknown) {
  const result = tenantPolicySchema.safeParse(json);
  if (result.success) throw new Error(`expected ${JSON.stringify(json)} to be invalid`);
  return result.error.issues[0]!;
}

describe('tenantPolicySchema', () => {
  describe('defaults', () => {
    it('makes {} a complete policy with the documented defaults', () => {
      expect(parseTenantPolicy({})).toEqual({
        limits: { max_queue: 100 },
        qos: {},
        allowed_qos_classes: ['interactive', 'standard', 'flex', 'batch'],
        failover: true,
        content_filter_failover: false,
        aliases: {},
        stream_resume: true,
        max_hedges: 1,
        hedge_non_streaming: false,
        response_cache: { enabled: false, ttl_seconds: 3_600 },
        prompt_retention: { enabled: false, days: 7 },
        replay: { min_success_rate: 0.95, min_agreement: 0.5, min_sample: 1, max_report_age_s: 86_400 },
        max_attempts: 4,
        allow_brokered_execution: false,
        allow_bifrost_broader_coverage: false,
        flex: { fallback_to_standard: false },
        batch: { provider_native: false, fallback_to_online: true, poll_interval_ms: 60_000, max_concurrency: 50 },
        default_qos_class: 'standard',
      });
      expect(DEFAULT_TENANT_POLICY).toEqual(parseTenantPolicy({}));
    });

    it('fills the defaults of a nested object given in part', () => {
      const policy = parseTenantPolicy({ limits: { concurrency: 8 }, batch: { provider_native: true } });
      expect(policy.limits).toEqual({ concurrency: 8, max_queue: 100 });
      expect(policy.batch).toEqual({ provider_native: true, fallback_to_online: true, poll_interval_ms: 60_000, max_concurrency: 50 });
    });

    it('treats a missing stored policy (null) as {}', () => {
      expect(parseTenantPolicy(null)).toEqual(DEFAULT_TENANT_POLICY);
    });

    it('shares a frozen default that callers cannot corrupt', () => {
      expect(Object.isFrozen(DEFAULT_TENANT_POLICY)).toBe(true);
      expect(Object.isFrozen(DEFAULT_TENANT_POLICY.limits)).toBe(true);
      expect(() => { (DEFAULT_TENANT_POLICY.limits as { max_queue: number }).max_queue = 1; }).toThrow(TypeError);
    });
  });

  describe('qos overrides', () => {
    it('maps snake_case JSON fields to QosProfile fields', () => {
      const policy = parseTenantPolicy({
        qos: { interactive: { deadline_ms: 20_000, max_queue_wait_ms: 500, ttft_target_ms: 800, total_target_ms: 10_000,
          first_token_timeout_ms: 5_000, stall_timeout_ms: 4_000, priority: 2 } },
      });
      expect(policy.qos.interactive).toEqual({ deadlineMs: 20_000, maxQueueWaitMs: 500, ttftTargetMs: 800, totalTargetMs: 10_000,
        firstTokenTimeoutMs: 5_000, stallTimeoutMs: 4_000, priority: 2 });
      expect(policy.qos.standard).toBeUndefined();
    });

    it('merges a partial override over the class defaults', () => {
      const policy = parseTenantPolicy({ qos: { flex: { deadline_ms: 7_200_000 } } });
      expect(tenantQosProfile(policy, 'flex')).toEqual({ ...DEFAULT_QOS.flex, deadlineMs: 7_200_000 });
      expect(tenantQosProfile(policy, 'standard')).toEqual(DEFAULT_QOS.standard);
    });

    it.each([
      [{ qos: { interactive: { deadline_ms: 1_000 } } }, ['qos', 'interactive', 'max_queue_wait_ms'], 'must not exceed its deadline_ms'],
      [{ qos: { standard: { first_token_timeout_ms: 400_000 } } }, ['qos', 'standard', 'first_token_timeout_ms'], 'must not exceed its deadline_ms'],
    ])('refuses an override inconsistent with the class deadline: %j', (json, path, message) => {
      const issue = issueOf(json);
      expect(issue.path).toEqual(path);
      expect(issue.message).toContain(message);
    });
  });

  describe('validation', () => {
    it.each([
      [{ limit: {} }, [], 'unrecognized_keys'],
      [{ limits: { burst: 3 } }, ['limits'], 'unrecognized_keys'],
      [{ qos: { premium: {} } }, ['qos'], 'unrecognized_keys'],
      [{ qos: { batch: { deadlineMs: 1 } } }, ['qos', 'batch'], 'unrecognized_keys'],
      [{ limits: { concurrency: 0 } }, ['limits', 'concurrency'], 'too_small'],
      [{ limits: { requests_per_minute: 1.5 } }, ['limits', 'requests_per_minute'], 'invalid_type'],
      [{ qos: { interactive: { priority: 6 } } }, ['qos', 'interactive', 'priority'], 'too_big'],
      [{ max_attempts: 0 }, ['max_attempts'], 'too_small'],
      [{ failover: 'yes' }, ['failover'], 'invalid_type'],
      [{ allowed_qos_classes: [] }, ['allowed_qos_classes'], 'too_small'],
      [{ allowed_qos_classes: ['premium'] }, ['allowed_qos_classes', 0], 'invalid_value'],
      [{ batch: { max_concurrency: 0 } }, ['batch', 'max_concurrency'], 'too_small'],
      [{ flex: { fallback_to_standard: 1 } }, ['flex', 'fallback_to_standard'], 'invalid_type'],
      [{ default_qos_class: 'gold' }, ['default_qos_class'], 'invalid_value'],
    ])('refuses %j at %j (%s)', (json, path, code) => {
      const issue = issueOf(json);
      expect(issue.path).toEqual(path);
      expect(issue.code).toBe(code);
    });

    it('requires the default class to be an allowed one', () => {
      const issue = issueOf({ allowed_qos_classes: ['interactive'] });
      expect(issue.path).toEqual(['default_qos_class']);
      expect(parseTenantPolicy({ allowed_qos_classes: ['interactive'], default_qos_class: 'interactive' }).default_qos_class).toBe('interactive');
    });

    it('removes duplicate classes', () => {
      expect(parseTenantPolicy({ allowed_qos_classes: ['standard', 'standard', 'batch'] }).allowed_qos_classes).toEqual(['standard', 'batch']);
    });

    it('throws the ZodError from parseTenantPolicy', () => {
      expect(() => parseTenantPolicy({ max_attempts: -1 })).toThrow(ZodError);
    });
  });

  describe('stream resume and hedges', () => {
    it('resumes broken streams and allows one hedge by default', () => {
      expect(streamResume(DEFAULT_TENANT_POLICY, 'code.fast')).toBe(true);
      expect(policySnapshot(DEFAULT_TENANT_POLICY, 'interactive', 'code.fast')).toMatchObject({ streamResume: true, maxHedges: 1 });
    });

    it('lets an alias opt out of (or back into) stream resume', () => {
      const policy = parseTenantPolicy({ aliases: { 'tools.agent': { stream_resume: false } } });
      expect(streamResume(policy, 'tools.agent')).toBe(false);
      expect(streamResume(policy, 'code.fast')).toBe(true);
      expect(streamResume(parseTenantPolicy({ stream_resume: false, aliases: { 'chat.long': { stream_resume: true } } }), 'chat.long')).toBe(true);
    });

    it('never hedges the batch class, and max_hedges: 0 disables hedging', () => {
      expect(policySnapshot(DEFAULT_TENANT_POLICY, 'batch', 'code.fast').maxHedges).toBe(0);
      expect(policySnapshot(parseTenantPolicy({ max_hedges: 0 }), 'interactive', 'code.fast').maxHedges).toBe(0);
      // A plain completion has no first token to watch: hedged only when the tenant asks.
      expect(policySnapshot(DEFAULT_TENANT_POLICY, 'interactive', 'code.fast', false).maxHedges).toBe(0);
      expect(policySnapshot(parseTenantPolicy({ hedge_non_streaming: true }), 'interactive', 'code.fast', false).maxHedges).toBe(1);
      expect(issueOf({ max_hedges: 9 }).path).toEqual(['max_hedges']);
    });
  });

  describe('content-filter failover', () => {
    it('is off by default: a content-filter refusal stops the request', () => {
      expect(contentFilterFailover(DEFAULT_TENANT_POLICY, 'code.fast')).toBe(false);
      expect(tenantRetryPolicy(DEFAULT_TENANT_POLICY, 'code.fast').contentFilterFailover).toBe(false);
    });

    it('follows the tenant-wide field for aliases without an override', () => {
      const policy = parseTenantPolicy({ content_filter_failover: true, aliases: { 'code.safe': {} } });
      expect(contentFilterFailover(policy, 'code.fast')).toBe(true);
      expect(contentFilterFailover(policy, 'code.safe')).toBe(true);
    });

    it('lets an alias override the tenant-wide field either way', () => {
      const on = parseTenantPolicy({ aliases: { 'creative.writer': { content_filter_failover: true } } });
      expect(contentFilterFailover(on, 'creative.writer')).toBe(true);
      expect(contentFilterFailover(on, 'code.fast')).toBe(false);
      const off = parseTenantPolicy({ content_filter_failover: true, aliases: { 'kids.tutor': { content_filter_failover: false } } });
      expect(contentFilterFailover(off, 'kids.tutor')).toBe(false);
      expect(contentFilterFailover(off, 'code.fast')).toBe(true);
    });

    it('reads only the tenant\'s own alias entries, never inherited object keys', () => {
      expect(contentFilterFailover(parseTenantPolicy({ content_filter_failover: true }), 'constructor')).toBe(true);
    });

    it('names a bad alias key or an unknown per-alias field', () => {
      expect(issueOf({ aliases: { '-bad': {} } }).path).toEqual(['aliases', '-bad']);
      expect(issueOf({ aliases: { 'code.fast': { failover: false } } })).toMatchObject({ code: 'unrecognized_keys', path: ['aliases', 'code.fast'] });
      expect(issueOf({ content_filter_failover: 'yes' }).path).toEqual(['content_filter_failover']);
    });

    it('goes into the retry policy with the attempt budget and the failover switch', () => {
      const policy = parseTenantPolicy({ failover: false, max_attempts: 2, aliases: { 'code.fast': { content_filter_failover: true } } });
      expect(tenantRetryPolicy(policy, 'code.fast')).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 2, failover: false, contentFilterFailover: true });
    });
  });

  describe('tenantPolicyToJson', () => {
    it('writes QoS overrides back in snake_case, and the JSON parses to the same policy', () => {
      const written = { limits: { key_concurrency: 2, max_queue: 10 }, qos: { batch: { priority: 5, stall_timeout_ms: 90_000 } },
        allow_brokered_execution: true, default_qos_class: 'flex' as const, content_filter_failover: true,
        aliases: { 'kids.tutor': { content_filter_failover: false } } };
      const policy = parseTenantPolicy(written);
      const json = tenantPolicyToJson(policy);
      expect(json.qos).toEqual({ batch: { priority: 5, stall_timeout_ms: 90_000 } });
      expect(json).toMatchObject({ limits: { key_concurrency: 2, max_queue: 10 }, allow_brokered_execution: true, default_qos_class: 'flex',
        content_filter_failover: true, aliases: { 'kids.tutor': { content_filter_failover: false } } });
      expect(parseTenantPolicy(JSON.parse(JSON.stringify(json)))).toEqual(policy);
    });
  });
});
