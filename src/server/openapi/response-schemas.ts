/**
 * What Zumik answers, as zod schemas for the OpenAPI document (requests are described by the schemas
 * the routes validate with). Loose objects: a client must accept fields it does not know, as with
 * OpenAI. The /v1 ones carry OpenAI's component names; a test holds them to OpenAI's own schemas.
 */
import { z } from 'zod';
import { EXECUTION_PROFILES } from '../../domain/model-alias';
import { QOS_CLASSES } from '../../domain/qos';
import { REASON_CODES } from '../../domain/reason-codes';
import { FAILURE_KINDS } from '../../domain/failure-kinds';

const unixSeconds = z.int().min(0);
const list = <T extends z.ZodType>(item: T) => z.looseObject({ object: z.literal('list'), data: z.array(item) });
const page = <T extends z.ZodType>(item: T) => z.looseObject({
  object: z.literal('list'), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean(),
});

export const ErrorResponse = z.looseObject({
  error: z.looseObject({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
}).meta({ description: "OpenAI's error envelope; `param` names the field at fault" });

export const CompletionUsage = z.looseObject({
  prompt_tokens: z.int().min(0), completion_tokens: z.int().min(0), total_tokens: z.int().min(0),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.int().min(0).optional(), audio_tokens: z.int().min(0).optional() }).optional(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.int().min(0).optional() }).optional(),
});

const finishReason = z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);
const toolCall = z.looseObject({
  id: z.string(), type: z.literal('function'), function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

export const CreateChatCompletionResponse = z.looseObject({
  id: z.string(), object: z.literal('chat.completion'), created: unixSeconds, model: z.string(),
  choices: z.array(z.looseObject({
    index: z.int().min(0),
    message: z.looseObject({
      role: z.literal('assistant'), content: z.string().nullable(), refusal: z.string().nullable(),
      tool_calls: z.array(toolCall).optional(), annotations: z.array(z.looseObject({})).optional(),
    }),
    finish_reason: finishReason, logprobs: z.looseObject({}).nullable(),
  })),
  usage: CompletionUsage.optional(),
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullable().optional(),
  system_fingerprint: z.string().optional(),
}).meta({ description: 'The answer (`stream: false`); a stream sends `chat.completion.chunk` objects as server-sent events instead' });

export const Model = z.looseObject({ id: z.string(), object: z.literal('model'), created: unixSeconds, owned_by: z.string() })
  .meta({ description: 'A model alias the caller may request' });
export const ListModelsResponse = list(Model);

export const OpenAIFile = z.looseObject({
  id: z.string(), object: z.literal('file'), bytes: z.int().min(0), created_at: unixSeconds, expires_at: unixSeconds.nullable().optional(),
  filename: z.string(), purpose: z.string(), status: z.enum(['uploaded', 'processed', 'error']),
});
export const ListFilesResponse = page(OpenAIFile);
export const DeleteFileResponse = z.looseObject({ id: z.string(), object: z.literal('file'), deleted: z.boolean() });

export const Batch = z.looseObject({
  id: z.string(), object: z.literal('batch'), endpoint: z.string(), input_file_id: z.string(), completion_window: z.string(),
  status: z.enum(['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled']),
  created_at: unixSeconds, output_file_id: z.string().optional(), error_file_id: z.string().optional(),
  request_counts: z.looseObject({ total: z.int().min(0), completed: z.int().min(0), failed: z.int().min(0) }).optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
});
export const ListBatchesResponse = page(Batch);

export const AttemptRecord = z.looseObject({
  n: z.int().min(1), execution_profile: z.enum(EXECUTION_PROFILES), provider: z.string(), model: z.string(), model_revision: z.string(),
  region: z.string(), started_at: z.string(), ended_at: z.string(), latency_ms: z.number().min(0), ttft_ms: z.number().min(0).nullable(),
  status: z.enum(['succeeded', 'failed', 'timed_out', 'cancelled']), http_status: z.int().nullable(),
  failure_kind: z.enum(Object.keys(FAILURE_KINDS) as [string, ...string[]]).nullable(), retry_cause: z.string().nullable(), service_tier: z.string().nullable(),
  usage: CompletionUsage.nullable(),
  cost_usd: z.number().min(0).nullable().optional().meta({ description: "This attempt's cost at the outcome's price_manifest_revision" }),
  via: z.literal('bifrost').optional().meta({ description: 'Set when a managed target was served through the Bifrost deployment; `provider` stays the real provider' }),
  coverage: z.literal('bifrost_broader').optional()
    .meta({ description: 'A broader-coverage target (model outside the capability manifest, through Bifrost): conservative capabilities, price unknown' }),
  warnings: z.array(z.looseObject({ type: z.enum(['unsupported-setting', 'approximated-setting', 'other']), setting: z.string().optional(), message: z.string() }))
    .optional().meta({ description: 'What this target could not do as asked: a setting left out (unsupported) or served approximately; present only when there is one' }),
}).meta({ description: 'One attempt against one target' });

export const RequestOutcome = z.looseObject({
  id: z.string(), object: z.literal('request_outcome'), tenant: z.string(), alias: z.string(), release_id: z.string().nullable(),
  qos_class: z.enum(QOS_CLASSES), admission: z.enum(['admitted', 'queued', 'rejected', 'expired_before_start']),
  completion: z.enum(['completed', 'failed', 'cancelled', 'expired_during_execution']).nullable(),
  target_met: z.boolean(), degraded: z.boolean(), fallback_used: z.boolean(),
  reason_code: z.enum(Object.keys(REASON_CODES) as [string, ...string[]]),
  timing: z.looseObject({ queued_ms: z.number().min(0), ttft_ms: z.number().min(0).nullable(), total_ms: z.number().min(0) }),
  attempts: z.array(AttemptRecord), usage: CompletionUsage.nullable(), cost_usd: z.number().min(0).nullable(),
  cost_reason: z.enum(['no_usage', 'unpriced_model']).nullable().optional().meta({ description: 'Why cost_usd is null' }),
  price_manifest_revision: z.string().nullable().optional().meta({ description: 'The price manifest revision the cost was computed with' }),
  cache_hit: z.boolean().optional().meta({ description: 'Answered from the response cache: no attempt, cost 0, no workflow' }),
  budget_soft_exceeded: z.boolean().optional().meta({ description: 'Admitted past a spent soft budget' }),
  workflow: z.looseObject({ id: z.string(), run_id: z.string(), ui_url: z.string().nullable() }).nullable(),
  trace_id: z.string().regex(/^[0-9a-f]{32}$/).optional().meta({ description: 'The OpenTelemetry trace, when tracing is on' }),
  response: CreateChatCompletionResponse.optional().meta({ description: 'The kept answer (background requests, Idempotency-Key)' }),
  routing: z.looseObject({
    release_id: z.string(), pinned: z.boolean(), canary: z.boolean(), live_release_id: z.string().optional(), canary_weight: z.int().optional(), canary_key_hash: z.string().optional(),
    sticky: z.looseObject({ by: z.enum(['session', 'prefix']), key_hash: z.string().nullable() }).optional(),
    lane: z.enum(['byoc', 'managed']), overflow: z.boolean(), overflow_reason: z.string().optional(), overflow_from: z.string().optional(),
  }).optional().meta({ description: 'How the release (pin, canary) and the first target (sticky key hash, lane, overflow) were chosen' }),
}).meta({ description: 'How a request ended: admission, completion, every attempt, usage, cost, its workflow' });

export const RequestInProgress = z.looseObject({
  id: z.string(), object: z.literal('request_outcome'), status: z.string(), completion: z.null(),
}).meta({ description: 'A request still running (background requests)' });

export const ChatCompletionWithOutcome = CreateChatCompletionResponse.extend({ zumik: RequestOutcome })
  .meta({ description: "OpenAI's answer, and Zumik's outcome of the request beside it" });

export const ModelAliasRelease = z.looseObject({
  id: z.string(), object: z.literal('model_alias_release'), alias: z.string(), status: z.enum(['active', 'retired']),
  policy_revision: z.string(), capability_manifest_revision: z.string(),
  targets: z.array(z.looseObject({
    execution_profile: z.enum(EXECUTION_PROFILES), provider: z.string(), model: z.string(), model_revision: z.string(), weight: z.int().min(0),
    coverage: z.literal('bifrost_broader').optional()
      .meta({ description: "Set by the install: a model outside the capability manifest, served through Bifrost to tenants whose policy sets allow_bifrost_broader_coverage" }),
  })),
  sticky: z.looseObject({ by: z.enum(['session', 'prefix']), header: z.string().optional(), prefix_chars: z.int().optional() }).optional()
    .meta({ description: 'Session- or prefix-sticky weighted routing' }),
  copied_from: z.string().optional().meta({ description: 'A rollback: the earlier release this one copies' }),
  activations: z.array(z.looseObject({
    endpoint_id: z.string(), report_id: z.string().nullable(), override: z.boolean(), reason: z.string().nullable(), activated_by: z.string().nullable(),
    activated_at: unixSeconds,
  })).optional().meta({ description: 'GET by id: how each BYOC endpoint the release introduced while pending was activated (replay report or audited override)' }),
  created_at: unixSeconds,
}).meta({ description: 'An immutable release of a model alias: its weighted targets' });
export const ModelAliasReleaseList = list(ModelAliasRelease);

export const ApiKey = z.looseObject({
  id: z.string(), object: z.literal('api_key'), name: z.string(), tenant: z.string(), scopes: z.array(z.string()), prefix: z.string(),
  allowed_aliases: z.array(z.string()).nullable(), allowed_providers: z.array(z.string()).nullable(),
  created_at: unixSeconds.nullable(), last_used_at: unixSeconds.nullable(), revoked_at: unixSeconds.nullable(),
  key: z.string().optional().meta({ description: 'The secret: in the creation answer only, never again' }),
});
export const ApiKeyList = list(ApiKey);
export const Deleted = z.looseObject({ id: z.string(), object: z.string(), deleted: z.literal(true) });
export const JsonObject = z.looseObject({}).meta({ description: 'A JSON object (see the README for its fields)' });

export const PriceManifest = z.looseObject({
  id: z.string(), object: z.literal('price_manifest'), created_at: unixSeconds, current: z.boolean(),
  models: z.record(z.string(), z.looseObject({ input: z.number().min(0), output: z.number().min(0) })),
}).meta({ description: 'A price manifest revision: USD per million tokens per provider/model, tier multipliers' });

export const PriceManifestRevisionList = z.looseObject({
  object: z.literal('list'), current_revision: z.string(),
  data: z.array(z.looseObject({ id: z.string(), object: z.literal('price_manifest_revision'), created_at: unixSeconds, models: z.int().min(0) })),
}).meta({ description: 'Every price manifest revision, oldest first' });

export const Budget = z.looseObject({
  id: z.string(), object: z.literal('budget'), tenant: z.string(), api_key_id: z.string().nullable(), alias: z.string().nullable(),
  amount_usd: z.number().positive(), period: z.enum(['daily', 'monthly', 'rolling']), window_seconds: z.int().nullable(), mode: z.enum(['hard', 'soft']),
  spent_usd: z.number().min(0), committed_usd: z.number().min(0), remaining_usd: z.number().min(0), exhausted: z.boolean(),
  period_start: unixSeconds, period_end: unixSeconds, created_at: unixSeconds,
}).meta({ description: 'A spend budget with its current period' });

export const BudgetList = z.looseObject({ object: z.literal('list'), data: z.array(Budget) });

const SpendLine = z.looseObject({ requests: z.int().min(0), cost_usd: z.number().min(0), unpriced_requests: z.int().min(0) });
export const Spend = z.looseObject({
  object: z.literal('spend'), tenant: z.string(), currency: z.literal('usd'), from: unixSeconds, to: unixSeconds, total: SpendLine,
  by_key: z.array(SpendLine.extend({ api_key_id: z.string().nullable() })), by_alias: z.array(SpendLine.extend({ alias: z.string() })),
  by_provider: z.array(SpendLine.extend({ provider: z.string().nullable() })), by_day: z.array(SpendLine.extend({ day: z.string() })),
}).meta({ description: "A tenant's recorded costs in a range, by key, alias, provider and UTC day" });
