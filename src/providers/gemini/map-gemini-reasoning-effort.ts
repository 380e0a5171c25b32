/**
 * OpenAI `reasoning_effort` → Gemini `thinkingConfig` (PROVIDERS.md §3.1). Gemini 2.x models take a
 * token budget (`thinkingBudget`), Gemini 3+ a level (`thinkingLevel`); the model id decides which.
 * Thought summaries are requested (`includeThoughts`) so they can be returned as `reasoning_content`.
 * A level a given model does not offer is left to Gemini to refuse (→ `invalid_request`).
 */
import type { ProviderWarning } from '../../contract/chat';
import type { GeminiThinkingConfig } from './gemini-request-types';

/** Budgets valid on every Gemini 2.5 model (Flash-Lite's minimum is 512; Pro cannot go to 0). */
const BUDGETS: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 24576 };
const LEVELS: Record<string, NonNullable<GeminiThinkingConfig['thinkingLevel']>> = {
  none: 'MINIMAL', minimal: 'MINIMAL', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', xhigh: 'HIGH',
};

/** True for the model families that use `thinkingBudget` rather than `thinkingLevel`. */
export function usesThinkingBudget(model: string): boolean {
  return /(^|\/)gemini-(1|2)\./.test(model);
}

export function mapGeminiReasoningEffort(effort: string | undefined, model: string): { thinkingConfig?: GeminiThinkingConfig; warnings: ProviderWarning[] } {
  if (effort === undefined) return { warnings: [] };
  const warnings: ProviderWarning[] = [];
  if (!(effort in BUDGETS)) {
    warnings.push({ type: 'unsupported-setting', setting: 'reasoning_effort', message: `reasoning_effort "${effort}" is unknown and was ignored` });
    return { warnings };
  }
  const includeThoughts = effort !== 'none';
  if (usesThinkingBudget(model)) {
    if (effort === 'xhigh') warnings.push({ type: 'approximated-setting', setting: 'reasoning_effort', message: 'xhigh is served as the high thinking budget' });
    return { thinkingConfig: { thinkingBudget: BUDGETS[effort]!, includeThoughts }, warnings };
  }
  if (effort === 'none' || effort === 'xhigh') {
    warnings.push({ type: 'approximated-setting', setting: 'reasoning_effort', message: `${effort} is served as thinkingLevel ${LEVELS[effort]} (Gemini 3 cannot disable thinking or go above HIGH)` });
  }
  return { thinkingConfig: { thinkingLevel: LEVELS[effort]!, includeThoughts }, warnings };
}
