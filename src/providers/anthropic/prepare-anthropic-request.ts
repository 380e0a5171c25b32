/**
 * The whole OpenAI chat request → one Anthropic `POST /v1/messages` body plus the warnings for what
 * could not be mapped faithfully. Pure: no I/O, so every mapping rule is unit-tested directly.
 */
import type { ChatRequest, ProviderWarning } from '../../contract/chat';
import type { AnthropicMessagesRequest, AnthropicTextBlock } from './anthropic-api';
import { applyAnthropicCacheBreakpoints } from './anthropic-cache-control';
import { prepareAnthropicSampling } from './anthropic-sampling';
import { convertToAnthropicMessages } from './convert-to-anthropic-messages';
import { prepareAnthropicTools } from './prepare-anthropic-tools';

/**
 * `max_tokens` sent when the caller gives neither `max_completion_tokens` nor `max_tokens`: Anthropic
 * requires one, and 4,096 is within the output limit of every Claude model, old or new, so it never
 * causes a 400 by itself.
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** Appended to the system prompt for `response_format: json_object`, which Anthropic has no switch for. */
export const JSON_OBJECT_INSTRUCTION = 'Respond with a single valid JSON object only: no prose, no Markdown code fences.';

const EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

/** OpenAI parameters Anthropic has no equivalent for, with the value that means "not used". */
const UNSUPPORTED: Array<[keyof ChatRequest & string, (value: unknown) => boolean]> = [
  ['n', (value) => value === 1],
  ['logprobs', (value) => value === false],
  ['top_logprobs', (value) => value === 0],
  ['frequency_penalty', (value) => value === 0],
  ['presence_penalty', (value) => value === 0],
  ['seed', () => false],
  ['logit_bias', (value) => typeof value === 'object' && value !== null && Object.keys(value).length === 0],
  ['audio', () => false],
  ['prediction', () => false],
  ['web_search_options', () => false],
  ['verbosity', () => false],
  ['metadata', (value) => typeof value === 'object' && value !== null && Object.keys(value).length === 0],
];

export interface PreparedAnthropicRequest {
  body: AnthropicMessagesRequest;
  warnings: ProviderWarning[];
}

/** Build the Anthropic body for `model`. `stream` is set by the adapter, not here. */
export function prepareAnthropicRequest(request: ChatRequest, model: string): PreparedAnthropicRequest {
  const prompt = convertToAnthropicMessages(request.messages);
  const tools = prepareAnthropicTools(request);
  const warnings: ProviderWarning[] = [...prompt.warnings, ...tools.warnings];
  const body: AnthropicMessagesRequest = {
    model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: prompt.messages,
    ...prepareAnthropicSampling(request, model, warnings),
  };
  const system = [...prompt.system];
  const outputConfig = prepareOutputConfig(request, system, warnings);
  if (outputConfig) body.output_config = outputConfig;
  if (system.length > 0) body.system = system;
  if (tools.tools) body.tools = tools.tools;
  if (tools.toolChoice) body.tool_choice = tools.toolChoice;
  const stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (stop && stop.length > 0) body.stop_sequences = stop;
  const serviceTier = mapServiceTier(request, warnings);
  if (serviceTier) body.service_tier = serviceTier;
  if (request.thinking) body.thinking = request.thinking;
  const userId = request.safety_identifier ?? request.user;
  if (userId) body.metadata = { user_id: userId };
  for (const [setting, isNeutral] of UNSUPPORTED) {
    const value = request[setting];
    if (value !== undefined && value !== null && !isNeutral(value)) {
      warnings.push({ type: 'unsupported-setting', setting, message: `Anthropic does not support '${setting}'; it was dropped.` });
    }
  }
  const cacheOptions = request.prompt_cache_options as { mode?: unknown } | undefined;
  warnings.push(...applyAnthropicCacheBreakpoints(body, { explicitOnly: cacheOptions?.mode === 'explicit' }));
  return { body, warnings };
}

/**
 * `response_format` and `reasoning_effort` → `output_config`. A JSON schema uses Anthropic's structured
 * output (`output_config.format`, GA per PROVIDERS.md §2.1); `json_object`, which has no Anthropic
 * switch, becomes a system instruction (approximated: the answer is not guaranteed to be JSON).
 */
function prepareOutputConfig(request: ChatRequest, system: AnthropicTextBlock[],
  warnings: ProviderWarning[]): AnthropicMessagesRequest['output_config'] {
  const config: NonNullable<AnthropicMessagesRequest['output_config']> = {};
  const format = request.response_format;
  if (format?.type === 'json_schema' && format.json_schema?.schema) {
    config.format = { type: 'json_schema', schema: format.json_schema.schema };
  } else if (format?.type === 'json_schema' || format?.type === 'json_object') {
    system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION });
    warnings.push({ type: 'approximated-setting', setting: 'response_format',
      message: 'Anthropic has no JSON mode without a schema; the model was instructed to answer with a JSON object.' });
  }
  const effort = request.reasoning_effort;
  if (typeof effort === 'string') {
    if (EFFORTS.has(effort)) {
      config.effort = effort as NonNullable<typeof config.effort>;
    } else if (effort === 'minimal') {
      config.effort = 'low';
      warnings.push({ type: 'approximated-setting', setting: 'reasoning_effort', message: "Anthropic has no 'minimal' effort; 'low' was sent." });
    } else {
      warnings.push({ type: 'unsupported-setting', setting: 'reasoning_effort', message: `Anthropic has no '${effort}' effort; it was dropped.` });
    }
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

/**
 * OpenAI `service_tier` → Anthropic's (PROVIDERS.md §2.6): `default` is `standard_only`; `auto`,
 * `priority`, `fast` and `scale` are `auto` (Anthropic serves Priority Tier under `auto` only where the
 * organisation has committed capacity, a legacy offer); `flex` has no counterpart and runs on standard.
 */
function mapServiceTier(request: ChatRequest, warnings: ProviderWarning[]): AnthropicMessagesRequest['service_tier'] {
  switch (request.service_tier) {
    case undefined: return undefined;
    case 'auto': return 'auto';
    case 'default': return 'standard_only';
    case 'flex':
      warnings.push({ type: 'approximated-setting', setting: 'service_tier', message: "Anthropic has no flex tier; 'flex' runs on the standard tier." });
      return 'standard_only';
    default:
      warnings.push({ type: 'approximated-setting', setting: 'service_tier',
        message: `Anthropic serves '${request.service_tier}' as 'auto': Priority Tier applies only where the organisation has committed capacity.` });
      return 'auto';
  }
}
