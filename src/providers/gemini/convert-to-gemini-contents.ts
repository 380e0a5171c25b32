/**
 * OpenAI chat messages → Gemini `systemInstruction` + `contents` (PROVIDERS.md §3.1). Gemini knows two
 * roles, `user` and `model`: system/developer text goes to `systemInstruction`, tool results travel as
 * `functionResponse` parts of a `user` turn (named after the call they answer, found by its id), and
 * consecutive turns of the same role are merged because Gemini expects them alternating.
 */
import { ProviderError } from '../provider-error';
import type { ChatContentPart, ChatMessage, ChatToolCall, ProviderWarning } from '../../contract/chat';
import { convertMediaPart } from './convert-to-gemini-media';
import { GEMINI_PROVIDER } from './gemini-error';
import type { GeminiContent, GeminiPart } from './gemini-request-types';

/**
 * Gemini 3 rejects a replayed function call without the model's `thoughtSignature`. OpenAI clients
 * cannot carry one unless they echo Google's `extra_content.google.thought_signature`, so history we
 * cannot sign gets Google's documented validator-skip value on the first call of the turn.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

export interface ConvertedContents {
  systemInstruction?: { parts: Array<{ text: string }> };
  contents: GeminiContent[];
  warnings: ProviderWarning[];
}

/** Convert the conversation; throws `invalid_request` when a tool message answers no earlier tool call. */
export function convertToGeminiContents(messages: ChatMessage[]): ConvertedContents {
  const warnings: ProviderWarning[] = [];
  const systemParts: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();

  messages.forEach((message, index) => {
    const setting = `messages[${index}]`;
    if (message.role === 'system' || message.role === 'developer') {
      if (contents.length > 0) warnings.push({ type: 'approximated-setting', setting, message: 'a system message after the conversation started was moved into systemInstruction' });
      const text = textOf(message.content, setting, warnings);
      if (text) systemParts.push({ text });
    } else if (message.role === 'user') {
      contents.push({ role: 'user', parts: convertUserContent(message.content, setting, warnings) });
    } else if (message.role === 'assistant') {
      const parts: GeminiPart[] = [];
      const text = message.content ? textOf(message.content, setting, warnings) : '';
      if (text) parts.push({ text });
      for (const toolCall of message.tool_calls ?? []) {
        toolNames.set(toolCall.id, toolCall.function.name);
        parts.push(convertToolCall(toolCall, setting, warnings));
      }
      contents.push({ role: 'model', parts });
    } else if (message.role === 'tool') {
      const name = toolNames.get(message.tool_call_id);
      if (!name) {
        throw new ProviderError(`${GEMINI_PROVIDER}: ${setting}.tool_call_id does not answer any earlier assistant tool call`,
          { kind: 'invalid_request', provider: GEMINI_PROVIDER });
      }
      contents.push({ role: 'user', parts: [{ functionResponse: { name, response: toFunctionResponse(textOf(message.content, setting, warnings)) } }] });
    }
  });

  const merged = mergeConsecutiveRoles(contents.filter((content) => content.parts.length > 0));
  for (const content of merged) if (content.role === 'model') signFirstFunctionCall(content);
  return { ...(systemParts.length > 0 ? { systemInstruction: { parts: systemParts } } : {}), contents: merged, warnings };
}

function convertUserContent(content: string | ChatContentPart[], setting: string, warnings: ProviderWarning[]): GeminiPart[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  const parts: GeminiPart[] = [];
  content.forEach((part, partIndex) => {
    if (part.type === 'text') {
      const text = (part as { text?: unknown }).text;
      if (typeof text === 'string' && text) parts.push({ text });
      return;
    }
    const converted = convertMediaPart(part, `${setting}.content[${partIndex}]`);
    if ('part' in converted) parts.push(converted.part);
    else warnings.push(converted.warning);
  });
  return parts;
}

/** Text of system/assistant/tool content; non-text parts there have no Gemini equivalent and are dropped. */
function textOf(content: string | ChatContentPart[], setting: string, warnings: ProviderWarning[]): string {
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const part of content) {
    const text = (part as { text?: unknown }).text;
    if (part.type === 'text' && typeof text === 'string') texts.push(text);
    else warnings.push({ type: 'unsupported-setting', setting, message: `a "${part.type}" part is only supported in user messages and was dropped` });
  }
  return texts.join('\n');
}

function convertToolCall(toolCall: ChatToolCall, setting: string, warnings: ProviderWarning[]): GeminiPart {
  let args: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(toolCall.function.arguments || '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) args = parsed as Record<string, unknown>;
    else throw new Error('not an object');
  } catch {
    warnings.push({ type: 'approximated-setting', setting, message: `tool call ${toolCall.id} has arguments that are not a JSON object; sent as {}` });
  }
  const signature = (toolCall as { extra_content?: { google?: { thought_signature?: unknown } } }).extra_content?.google?.thought_signature;
  return { functionCall: { name: toolCall.function.name, args }, ...(typeof signature === 'string' ? { thoughtSignature: signature } : {}) };
}

/** A tool result must be a JSON object (protobuf Struct): objects pass as they are, anything else is wrapped. */
function toFunctionResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch { /* plain text result */ }
  return { result: text };
}

function mergeConsecutiveRoles(contents: GeminiContent[]): GeminiContent[] {
  const merged: GeminiContent[] = [];
  for (const content of contents) {
    const last = merged.at(-1);
    if (last && last.role === content.role) last.parts.push(...content.parts);
    else merged.push({ role: content.role, parts: [...content.parts] });
  }
  return merged;
}

function signFirstFunctionCall(content: GeminiContent): void {
  const calls = content.parts.filter((part): part is Extract<GeminiPart, { functionCall: unknown }> => 'functionCall' in part);
  if (calls.length > 0 && !calls.some((part) => part.thoughtSignature)) calls[0]!.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
}
