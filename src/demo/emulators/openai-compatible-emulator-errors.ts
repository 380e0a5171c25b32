/**
 * Each OpenAI-compatible provider's own error bodies (PROVIDERS.md §1.4, §4.3, §5.3, §6), so that
 * adapters are tested against what each provider really sends, not against one idealised shape.
 */
import type { OpenAICompatibleEmulatorFlavour } from './openai-compatible-emulator-bodies';

/**
 * OpenAI's 400 for `max_tokens` sent to a reasoning model, as recorded in
 * test/fixtures/openai-compatible/openai/reasoning-model-legacy-parameter-error.json (a test keeps the two equal).
 */
export function reasoningLegacyParameterError(): unknown {
  return {
    error: {
      message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter',
    },
  };
}

/** The body a provider answers a wrong key with (status 401); OpenAI and xAI echo a masked key. */
export function authErrorBody(flavour: OpenAICompatibleEmulatorFlavour, presentedKey: string): unknown {
  const masked = `${presentedKey.slice(0, 3)}${'*'.repeat(Math.max(0, presentedKey.length - 7))}${presentedKey.slice(-4)}`;
  switch (flavour) {
    case 'openai':
      return { error: { message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };
    case 'xai':
      return { code: 'invalid-api-key', error: `Incorrect API key provided: ${masked}. You can obtain an API key from https://console.x.ai.` };
    case 'fireworks':
      return { error: { object: 'error', type: 'authentication_error', message: 'The API key you provided is invalid.' } };
    case 'openrouter':
      return { error: { code: 401, message: 'No auth credentials found' } };
    case 'byoc':
      return { error: 'Unauthorized' };
    case 'bifrost':
      return bifrostError(401, presentedKey ? 'virtual_key_not_found' : 'virtual_key_required',
        presentedKey ? 'virtual key not found' : 'virtual key is required: send it in the x-bf-vk header');
  }
}

/** The default body for a scripted status fault, per provider. Plain text where the provider sends text. */
export function statusErrorBody(flavour: OpenAICompatibleEmulatorFlavour, status: number): unknown {
  const message = MESSAGES[status] ?? `upstream error ${status}`;
  switch (flavour) {
    case 'openai': return { error: { message, type: OPENAI_TYPES[status] ?? 'server_error', param: null, code: OPENAI_CODES[status] ?? null } };
    case 'xai': return { code: XAI_CODES[status] ?? 'Internal error', error: message };
    case 'fireworks': return { error: { object: 'error', type: status >= 500 ? 'server_error' : 'invalid_request_error', message } };
    case 'openrouter': return { error: { code: status, message, metadata: status === 502 ? { provider_name: 'Emulated' } : {} } };
    case 'byoc':
      // The endpoint picker (gateway-api-inference-extension) sheds with a plain-text 429 and has no endpoint on 503.
      if (status === 429) return 'inference gateway: InferencePoolResourceExhausted - system saturated, sheddable request dropped';
      if (status === 503) return 'inference gateway: ServiceUnavailable - failed to find candidate endpoints for serving the request';
      return { object: 'error', message, type: status >= 500 ? 'InternalServerError' : 'BadRequestError', param: null, code: status };
    case 'bifrost': return bifrostError(status, OPENAI_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), message);
  }
}

/**
 * Bifrost's error envelope: OpenAI's nested `error` plus its own `is_bifrost_error` (true when Bifrost itself refused,
 * e.g. governance on the virtual key) and `status_code`.
 */
export function bifrostError(status: number, type: string, message: string): unknown {
  return { is_bifrost_error: true, status_code: status, error: { type, message } };
}

const MESSAGES: Record<number, string> = {
  400: 'Invalid request.', 401: 'Unauthorized.', 402: 'Insufficient credits.', 403: 'Forbidden.', 404: 'The model does not exist.',
  408: 'Request timed out.', 409: 'Conflict, please retry.', 413: 'Request too large.', 429: 'Rate limit reached for requests.',
  500: 'The server had an error while processing your request.', 502: 'Bad gateway.', 503: 'The engine is currently overloaded.',
  504: 'Gateway timeout.', 529: 'The service is overloaded.',
};
const OPENAI_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'invalid_request_error', 403: 'invalid_request_error',
  404: 'invalid_request_error', 429: 'requests' };
const OPENAI_CODES: Record<number, string> = { 401: 'invalid_api_key', 404: 'model_not_found', 429: 'rate_limit_exceeded' };
const XAI_CODES: Record<number, string> = { 400: 'Client specified an invalid argument', 404: 'Some requested entity was not found',
  429: 'Too many requests', 529: 'The service is overloaded' };

/** OpenAI's insufficient-quota 429 (waiting does not help). */
export const INSUFFICIENT_QUOTA_BODY = { error: { message: 'You exceeded your current quota, please check your plan and billing details.',
  type: 'insufficient_quota', param: null, code: 'insufficient_quota' } };

/** OpenAI's context-length 400. */
export const CONTEXT_LENGTH_BODY = { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
  type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } };
