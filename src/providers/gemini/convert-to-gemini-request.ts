/**
 * The OpenAI chat request → Gemini `generateContent` body (PROVIDERS.md §3.1): contents and tools
 * from their own converters, sampling settings into `generationConfig`, JSON mode into
 * `responseMimeType`/`responseSchema`, and `service_tier` into the top-level `serviceTier` (§3.6).
 * Settings Gemini cannot honour become warnings; they never fail the request.
 */
import { thinkingAsReasoningEffort, type ChatRequest, type ProviderWarning } from '../../contract/chat';
import { convertJsonSchemaToGeminiSchema } from './convert-json-schema-to-gemini-schema';
import { convertToGeminiContents } from './convert-to-gemini-contents';
import { convertToGeminiTools } from './convert-to-gemini-tools';
import type { GeminiGenerateContentRequest, GeminiGenerationConfig, GeminiServiceTier } from './gemini-request-types';
import { mapGeminiReasoningEffort } from './map-gemini-reasoning-effort';

export interface ConvertedGeminiRequest {
  body: GeminiGenerateContentRequest;
  warnings: ProviderWarning[];
}

/** Build the body; `model` is the provider's model id (it picks the thinking configuration style). */
export function convertToGeminiRequest(request: ChatRequest, model: string): ConvertedGeminiRequest {
  const contents = convertToGeminiContents(request.messages);
  const tools = convertToGeminiTools(request);
  // Anthropic's `thinking` (an Anthropic Messages client's) is served as the nearest effort when none was set.
  const effort = request.reasoning_effort ?? thinkingAsReasoningEffort(request.thinking);
  const thinking = mapGeminiReasoningEffort(effort, model);
  const warnings = [...contents.warnings, ...tools.warnings, ...thinking.warnings];
  if (request.thinking && request.thinking.type !== 'disabled' && request.reasoning_effort === undefined) {
    warnings.push({ type: 'approximated-setting', setting: 'thinking', message: `'thinking' was served as reasoning effort '${String(effort)}'.` });
  }
  if (request.messages.some((message) => message.role === 'assistant' && (message.thinking_blocks?.length ?? 0) > 0)) {
    warnings.push({ type: 'unsupported-setting', setting: 'messages.thinking_blocks', message: 'earlier Anthropic thinking blocks were dropped: only an Anthropic model can read them back' });
  }

  const generationConfig: GeminiGenerationConfig = {
    ...optional('temperature', request.temperature),
    ...optional('topP', request.top_p),
    ...optional('candidateCount', request.n),
    ...optional('maxOutputTokens', request.max_completion_tokens ?? request.max_tokens),
    ...optional('seed', request.seed),
    ...optional('presencePenalty', request.presence_penalty),
    ...optional('frequencyPenalty', request.frequency_penalty),
    ...optional('stopSequences', request.stop === undefined ? undefined : Array.isArray(request.stop) ? request.stop : [request.stop]),
    ...optional('thinkingConfig', thinking.thinkingConfig),
    ...convertResponseFormat(request, warnings),
  };
  warnUnsupported(request, warnings);
  const serviceTier = convertServiceTier(request.service_tier, warnings);

  const body: GeminiGenerateContentRequest = {
    contents: contents.contents,
    ...optional('systemInstruction', contents.systemInstruction),
    ...optional('tools', tools.tools),
    ...optional('toolConfig', tools.toolConfig),
    ...(Object.keys(generationConfig).length > 0 ? { generationConfig } : {}),
    ...optional('serviceTier', serviceTier),
  };
  return { body, warnings };
}

function convertResponseFormat(request: ChatRequest, warnings: ProviderWarning[]): GeminiGenerationConfig {
  const format = request.response_format;
  if (!format || format.type === 'text') return {};
  if (format.type === 'json_object') return { responseMimeType: 'application/json' };
  if (format.type !== 'json_schema') {
    warnings.push({ type: 'unsupported-setting', setting: 'response_format', message: `response_format "${String((format as { type: unknown }).type)}" is not supported by Gemini` });
    return {};
  }
  if (!format.json_schema.schema) return { responseMimeType: 'application/json' };
  const { schema, dropped } = convertJsonSchemaToGeminiSchema(format.json_schema.schema);
  if (dropped.length > 0) {
    warnings.push({ type: 'approximated-setting', setting: 'response_format.json_schema.schema', message: `JSON Schema keywords Gemini cannot express were dropped: ${dropped.join(', ')}` });
  }
  return { responseMimeType: 'application/json', responseSchema: schema };
}

/** OpenAI tiers → Gemini's: flex → flex, priority/fast → priority, auto/default → Gemini's default (omitted). */
function convertServiceTier(tier: ChatRequest['service_tier'], warnings: ProviderWarning[]): GeminiServiceTier | undefined {
  if (tier === 'flex') return 'flex';
  if (tier === 'priority' || tier === 'fast') return 'priority';
  if (tier === 'scale') warnings.push({ type: 'unsupported-setting', setting: 'service_tier', message: 'Gemini has no scale tier; served at the standard tier' });
  return undefined;
}

function warnUnsupported(request: ChatRequest, warnings: ProviderWarning[]): void {
  if (request.logit_bias && Object.keys(request.logit_bias).length > 0) {
    warnings.push({ type: 'unsupported-setting', setting: 'logit_bias', message: 'Gemini has no logit bias' });
  }
  if (request.logprobs || request.top_logprobs !== undefined) {
    warnings.push({ type: 'unsupported-setting', setting: 'logprobs', message: 'log probabilities are not returned for Gemini' });
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
