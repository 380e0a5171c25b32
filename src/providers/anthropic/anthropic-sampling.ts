/**
 * temperature / top_p for Anthropic. Claude models released after Opus 4.6 accept only the defaults
 * (temperature 1.0, top_p ≥ 0.99) and answer 400 otherwise (PROVIDERS.md §2.1, §7.5); recent models
 * also refuse both together. Anthropic's temperature range is 0–1 where OpenAI's is 0–2.
 */
import type { ChatRequest, ProviderWarning } from '../../contract/chat';

/**
 * True for model ids after Opus 4.6 (any family at 4.7+ or 5+), e.g. `claude-opus-4-8`, `claude-sonnet-5`,
 * `claude-fable-5-2`; false for `claude-haiku-4-5-20251001`, `claude-3-5-sonnet-…` and unknown ids.
 */
export function hasFixedSampling(model: string): boolean {
  const match = /claude-(?:[a-z]+-)?(\d+)(?:-(\d{1,2})(?=\D|$))?/.exec(model);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2] ?? 0);
  return major > 4 || (major === 4 && minor >= 7);
}

/** The sampling fields to send, and a warning for each value that could not be honoured. */
export function prepareAnthropicSampling(request: Pick<ChatRequest, 'temperature' | 'top_p'>, model: string,
  warnings: ProviderWarning[]): { temperature?: number; top_p?: number } {
  const { temperature, top_p: topP } = request;
  if (hasFixedSampling(model)) {
    // Sending the default is allowed but changes nothing; anything else would be a 400.
    if (typeof temperature === 'number' && temperature !== 1) {
      warnings.push({ type: 'unsupported-setting', setting: 'temperature', message: `${model} accepts only the default temperature; ${temperature} was dropped.` });
    }
    if (typeof topP === 'number' && topP < 0.99) {
      warnings.push({ type: 'unsupported-setting', setting: 'top_p', message: `${model} accepts only the default top_p; ${topP} was dropped.` });
    }
    return {};
  }
  const sampling: { temperature?: number; top_p?: number } = {};
  if (typeof temperature === 'number') {
    sampling.temperature = Math.min(temperature, 1);
    if (temperature > 1) {
      warnings.push({ type: 'approximated-setting', setting: 'temperature', message: `Anthropic's temperature range is 0–1; ${temperature} was sent as 1.` });
    }
  }
  if (typeof topP === 'number') {
    if (sampling.temperature !== undefined) {
      warnings.push({ type: 'unsupported-setting', setting: 'top_p', message: 'Anthropic models refuse temperature and top_p together; top_p was dropped.' });
    } else {
      sampling.top_p = topP;
    }
  }
  return sampling;
}
