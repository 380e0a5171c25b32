/**
 * A Gemini `GenerateContentResponse` → Zumik's `ChatResult` (OpenAI shape): text parts → content,
 * thought parts → `reasoning_content`, function calls → `tool_calls` (ids made up, deterministically,
 * when Gemini sends none), finish reasons and usage through their mappers.
 */
import { ProviderError } from '../provider-error';
import type { ChatResult, ChatToolCall, ProviderWarning } from '../../contract/chat';
import { GEMINI_PROVIDER } from './gemini-error';
import type { GeminiCandidate, GeminiResponse } from './gemini-response-schema';
import { mapGeminiBlockReason, mapGeminiFinishReason } from './map-gemini-finish-reason';
import { mapGeminiServedTier, mapGeminiUsage } from './map-gemini-usage';

/** A tool call as returned to callers; the thought signature rides along the way Google's own OpenAI layer carries it. */
export type GeminiChatToolCall = ChatToolCall & { extra_content?: { google: { thought_signature: string } } };

/**
 * The id of a function call Gemini sent without one: stable for a given response, choice and position,
 * so a replayed or re-read answer names its calls the same way.
 */
export function geminiToolCallId(responseId: string | undefined, choiceIndex: number, callIndex: number): string {
  const base = (responseId ?? 'gemini').replace(/[^A-Za-z0-9_-]/g, '');
  return `call_${base}_${choiceIndex}_${callIndex}`;
}

export interface GeminiResponseContext {
  /** The model id Zumik asked for, used when Gemini does not report `modelVersion`. */
  model: string;
  created: number;
  warnings: ProviderWarning[];
  /** The `x-gemini-service-tier` response header, when present. */
  servedTierHeader?: string;
}

/** Convert a parsed answer; throws `bad_response` when it has neither candidates nor a prompt block. */
export function convertGeminiResponse(response: GeminiResponse, context: GeminiResponseContext): ChatResult {
  const candidates = response.candidates ?? [];
  const blockReason = response.promptFeedback?.blockReason;
  if (candidates.length === 0 && !blockReason) {
    throw new ProviderError(`${GEMINI_PROVIDER}: the answer has no candidates`, { kind: 'bad_response', provider: GEMINI_PROVIDER });
  }
  const choices: ChatResult['choices'] = candidates.length === 0
    ? [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: mapGeminiBlockReason(blockReason!), raw_finish_reason: blockReason }]
    : candidates.map((candidate, position) => convertCandidate(candidate, candidate.index ?? position, response.responseId));
  const serviceTier = mapGeminiServedTier(context.servedTierHeader, response.usageMetadata);
  return {
    providerResponseId: response.responseId ?? '',
    model: response.modelVersion ?? context.model,
    created: context.created,
    choices,
    usage: mapGeminiUsage(response.usageMetadata),
    ...(serviceTier ? { serviceTier } : {}),
    warnings: context.warnings,
  };
}

function convertCandidate(candidate: GeminiCandidate, index: number, responseId: string | undefined): ChatResult['choices'][number] {
  let text = '';
  let reasoning = '';
  const toolCalls: GeminiChatToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    if (part.functionCall?.name) {
      const call = part.functionCall;
      toolCalls.push({
        id: call.id ?? geminiToolCallId(responseId, index, toolCalls.length),
        type: 'function',
        function: { name: call.name!, arguments: JSON.stringify(call.args ?? {}) },
        ...(part.thoughtSignature ? { extra_content: { google: { thought_signature: part.thoughtSignature } } } : {}),
      });
    } else if (typeof part.text === 'string') {
      if (part.thought) reasoning += part.text;
      else text += part.text;
    }
  }
  return {
    index,
    message: {
      role: 'assistant',
      content: text.length > 0 ? text : null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      ...(reasoning.length > 0 ? { reasoning_content: reasoning } : {}),
    },
    finish_reason: mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0),
    ...(candidate.finishReason ? { raw_finish_reason: candidate.finishReason } : {}),
  };
}
