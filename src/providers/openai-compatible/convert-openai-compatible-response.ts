/**
 * Turns a non-streamed OpenAI-compatible answer into a ChatResult: unified finish reasons next to
 * raw ones, usage on OpenAI's contract, the served tier and the provider's ids kept for the record.
 */
import type { ChatResult, ChatToolCall, ProviderWarning } from '../../contract/chat';
import type { OpenAICompatibleResponse } from './openai-compatible-api';
import { servedModelName, type OpenAICompatibleFlavour } from './openai-compatible-flavours';
import { mapOpenAICompatibleFinishReason } from './map-openai-compatible-finish-reason';
import { mapOpenAICompatibleUsage } from './map-openai-compatible-usage';

export function convertOpenAICompatibleResponse(response: OpenAICompatibleResponse, context: {
  flavour: OpenAICompatibleFlavour; model: string; providerRequestId?: string; warnings: ProviderWarning[]; now?: () => number;
}): ChatResult {
  return {
    providerResponseId: response.id ?? '',
    model: servedModelName(context.flavour, response.model ?? context.model),
    created: response.created ?? Math.floor((context.now ?? Date.now)() / 1000),
    choices: response.choices.map((choice, position) => {
      const message = choice.message;
      const toolCalls = (message.tool_calls ?? []).map((call, index): ChatToolCall => ({
        id: call.id ?? `call_${position}_${index}`,
        type: 'function',
        function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
      }));
      const reasoning = message.reasoning_content ?? message.reasoning;
      return {
        index: choice.index ?? position,
        message: {
          role: 'assistant' as const,
          // xAI sends "" next to tool calls; OpenAI's contract says null.
          content: message.content ? message.content : toolCalls.length > 0 ? null : (message.content ?? null),
          refusal: message.refusal ?? null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(reasoning ? { reasoning_content: reasoning } : {}),
        },
        finish_reason: mapOpenAICompatibleFinishReason(choice.finish_reason),
        ...(choice.finish_reason ? { raw_finish_reason: choice.finish_reason } : {}),
      };
    }),
    usage: mapOpenAICompatibleUsage(response.usage, context.flavour),
    ...(response.service_tier ? { serviceTier: response.service_tier } : {}),
    ...(response.system_fingerprint ? { systemFingerprint: response.system_fingerprint } : {}),
    ...(context.providerRequestId ? { providerRequestId: context.providerRequestId } : {}),
    warnings: context.warnings,
  };
}
