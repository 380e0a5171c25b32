/**
 * What the Gemini emulator answers: `GenerateContentResponse` bodies and stream chunks built from a
 * scripted reply (shaped after the recorded fixtures in test/fixtures/gemini), and Google's own error
 * bodies (`{"error":{code,message,status,details}}`, PROVIDERS.md §3.4).
 */

/** The answer the emulator gives; every field optional, defaults make a plain text answer. */
export interface GeminiReply {
  text?: string;
  /** Thought-summary text, sent as a `thought: true` part before the answer. */
  thoughts?: string;
  functionCalls?: Array<{ name: string; args?: Record<string, unknown>; id?: string }>;
  /** Default `STOP`. */
  finishReason?: string;
  /** Block the prompt: no candidates, `promptFeedback.blockReason` set. */
  blockReason?: string;
  /** Default: the model named in the path. */
  modelVersion?: string;
  responseId?: string;
  usage?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number; cachedContentTokenCount?: number; toolUsePromptTokenCount?: number };
  /** Tier reported in `x-gemini-service-tier`; default: the requested `serviceTier`, when one was sent. */
  servedTier?: string;
  /** Recorded chunks replayed verbatim on streams (the last one is the terminal chunk). */
  chunks?: unknown[];
  /** A recorded body returned verbatim by `generateContent`. */
  body?: unknown;
}

export const DEFAULT_GEMINI_TEXT = 'Hello from the Gemini emulator.';
export const THOUGHT_SIGNATURE = 'EmulatorThoughtSignature==';

function usageMetadata(reply: GeminiReply): Record<string, number> {
  const promptTokenCount = reply.usage?.promptTokenCount ?? 9;
  const candidatesTokenCount = reply.usage?.candidatesTokenCount ?? Math.max(1, (reply.text ?? DEFAULT_GEMINI_TEXT).split(/\s+/).length);
  const thoughtsTokenCount = reply.usage?.thoughtsTokenCount ?? (reply.thoughts ? 12 : undefined);
  const extra = Object.fromEntries(Object.entries({
    thoughtsTokenCount, cachedContentTokenCount: reply.usage?.cachedContentTokenCount, toolUsePromptTokenCount: reply.usage?.toolUsePromptTokenCount,
  }).filter((entry): entry is [string, number] => entry[1] !== undefined));
  const total = promptTokenCount + candidatesTokenCount + (extra.thoughtsTokenCount ?? 0) + (extra.toolUsePromptTokenCount ?? 0);
  return { promptTokenCount, candidatesTokenCount, totalTokenCount: total, ...extra };
}

function functionCallParts(reply: GeminiReply): unknown[] {
  return (reply.functionCalls ?? []).map((call, index) => ({
    functionCall: { ...(call.id ? { id: call.id } : {}), name: call.name, args: call.args ?? {} },
    ...(index === 0 ? { thoughtSignature: THOUGHT_SIGNATURE } : {}),
  }));
}

/** The non-streamed body for a reply. */
export function generateContentBody(reply: GeminiReply, model: string, responseId: string): unknown {
  if (reply.body !== undefined) return reply.body;
  const common = { usageMetadata: usageMetadata(reply), modelVersion: reply.modelVersion ?? model, responseId: reply.responseId ?? responseId };
  if (reply.blockReason) return { promptFeedback: { blockReason: reply.blockReason }, ...common };
  const parts = [
    ...(reply.thoughts ? [{ text: reply.thoughts, thought: true }] : []),
    ...(reply.functionCalls?.length && reply.text === undefined ? [] : [{ text: reply.text ?? DEFAULT_GEMINI_TEXT }]),
    ...functionCallParts(reply),
  ];
  return { candidates: [{ content: { parts, role: 'model' }, finishReason: reply.finishReason ?? 'STOP', index: 0 }], ...common };
}

/** The stream chunks for a reply; the last chunk carries `finishReason` (the terminal event). */
export function streamChunks(reply: GeminiReply, model: string, responseId: string): unknown[] {
  if (reply.chunks) return reply.chunks;
  const usage = usageMetadata(reply);
  const common = { modelVersion: reply.modelVersion ?? model, responseId: reply.responseId ?? responseId };
  const partial = { usageMetadata: { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount }, ...common };
  if (reply.blockReason) return [{ promptFeedback: { blockReason: reply.blockReason }, usageMetadata: usage, ...common }];
  const chunk = (parts: unknown[]) => ({ candidates: [{ content: { parts, role: 'model' }, index: 0 }], ...partial });
  const chunks: unknown[] = [];
  if (reply.thoughts) chunks.push(chunk([{ text: reply.thoughts, thought: true }]));
  const text = reply.functionCalls?.length && reply.text === undefined ? '' : reply.text ?? DEFAULT_GEMINI_TEXT;
  for (const piece of splitText(text)) chunks.push(chunk([{ text: piece }]));
  if (reply.functionCalls?.length) chunks.push(chunk(functionCallParts(reply)));
  chunks.push({
    candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: reply.finishReason ?? 'STOP', index: 0 }],
    usageMetadata: usage, ...common,
  });
  return chunks;
}

/** Up to three pieces, split on word boundaries, that concatenate back to the text. */
function splitText(text: string): string[] {
  if (!text) return [];
  const words = text.split(/(?<=\s)/);
  const size = Math.ceil(words.length / 3);
  const pieces: string[] = [];
  for (let index = 0; index < words.length; index += size) pieces.push(words.slice(index, index + size).join(''));
  return pieces;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED', 429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

/** Google's error body for an HTTP status (429 carries QuotaFailure + RetryInfo like the recorded fixture). */
export function googleErrorBody(status: number, message?: string, retryDelaySeconds = 17): unknown {
  const googleStatus = STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'UNKNOWN');
  const details = status === 429 ? [
    { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaValue: '10' }] },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryDelaySeconds}s` },
  ] : undefined;
  const defaults: Record<string, string> = {
    RESOURCE_EXHAUSTED: 'You exceeded your current quota, please check your plan and billing details.',
    UNAVAILABLE: 'The model is overloaded. Please try again later.',
    INTERNAL: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    DEADLINE_EXCEEDED: 'The request timed out. Please try again.',
  };
  return { error: { code: status, message: message ?? defaults[googleStatus] ?? `Request failed with status ${googleStatus}.`, status: googleStatus, ...(details ? { details } : {}) } };
}

/** Google's answer to a wrong key: a 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID. */
export const API_KEY_INVALID_BODY = {
  error: {
    code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT',
    details: [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
    ],
  },
};

/** Google's answer to a call with no key at all: 403 PERMISSION_DENIED. */
export const MISSING_KEY_BODY = {
  error: {
    code: 403, status: 'PERMISSION_DENIED',
    message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  },
};
