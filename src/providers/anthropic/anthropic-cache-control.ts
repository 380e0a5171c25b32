/**
 * Automatic prompt-cache breakpoints for Anthropic, which caches only up to the `cache_control`
 * markers it is sent (PROVIDERS.md §2.5). The rule:
 *
 * 1. The caller's own markers win. They were translated during conversion (`cache_control` on a part,
 *    or OpenAI's `prompt_cache_breakpoint`). Anthropic rejects a fifth breakpoint, so when the caller
 *    sent more than four, only the last four (in prefix order, tools → system → messages) are kept,
 *    as OpenAI keeps the latest explicit breakpoints, and a warning says so.
 * 2. Automatic breakpoints fill the slots left, in this order, skipping a block already marked:
 *    the last tool definition; the last system block; the end of the conversation history before the
 *    newest message, once that prefix is long enough to be cached (≈1,024 tokens); then each earlier
 *    turn that is long on its own, newest first. A single-message request therefore pays no cache write
 *    on its conversation, only on the tools and system prompt shared by later calls.
 * 3. None are added when the caller asks for explicit caching only (`prompt_cache_options.mode: "explicit"`).
 * 4. Automatic breakpoints use the default 5-minute TTL, unless a caller's 1-hour breakpoint follows
 *    them: Anthropic requires 1-hour entries to precede 5-minute ones, so they take `1h` too.
 */
import type { ProviderWarning } from '../../contract/chat';
import type { AnthropicCacheControl, AnthropicContentBlock, AnthropicMessagesRequest } from './anthropic-api';

/** Anthropic rejects requests with more breakpoints than this. */
export const ANTHROPIC_MAX_CACHE_BREAKPOINTS = 4;

/** The smallest minimum cacheable prompt among current Claude models (PROVIDERS.md §2.5), in tokens. */
export const MIN_CACHEABLE_TOKENS = 1024;

interface Markable { cache_control?: AnthropicCacheControl }

export interface CacheBreakpointOptions {
  /** Only the caller's breakpoints, none automatic (OpenAI `prompt_cache_options.mode: "explicit"`). */
  explicitOnly?: boolean;
}

/** Place breakpoints on a converted request in place; returns warnings for caller markers that had to be dropped. */
export function applyAnthropicCacheBreakpoints(request: Pick<AnthropicMessagesRequest, 'tools' | 'system' | 'messages'>,
  options: CacheBreakpointOptions = {}): ProviderWarning[] {
  const warnings: ProviderWarning[] = [];
  const callerMarked = markableBlocks(request).filter((block) => block.cache_control !== undefined);
  const excess = callerMarked.length - ANTHROPIC_MAX_CACHE_BREAKPOINTS;
  if (excess > 0) {
    for (const block of callerMarked.slice(0, excess)) delete block.cache_control;
    warnings.push({ type: 'approximated-setting', setting: 'cache_control',
      message: `Anthropic accepts at most ${ANTHROPIC_MAX_CACHE_BREAKPOINTS} cache breakpoints; the ${excess} earliest of the ${callerMarked.length} sent were dropped.` });
  }
  if (options.explicitOnly) return warnings;

  let free = ANTHROPIC_MAX_CACHE_BREAKPOINTS - Math.min(callerMarked.length, ANTHROPIC_MAX_CACHE_BREAKPOINTS);
  const automatic = new Set<Markable>();
  for (const candidate of automaticCandidates(request)) {
    if (free === 0) break;
    if (candidate.cache_control || automatic.has(candidate)) continue;
    candidate.cache_control = { type: 'ephemeral' };
    automatic.add(candidate);
    free -= 1;
  }
  alignTtls(request, automatic);
  return warnings;
}

/** Every block that may carry `cache_control`, in Anthropic's prefix order: tools, system, then message blocks. */
export function markableBlocks(request: Pick<AnthropicMessagesRequest, 'tools' | 'system' | 'messages'>): Markable[] {
  const blocks: Markable[] = [...(request.tools ?? []), ...(request.system ?? [])];
  for (const message of request.messages) {
    for (const block of message.content) {
      if (block.type === 'thinking' || block.type === 'redacted_thinking') continue; // Anthropic refuses cache_control on thinking
      blocks.push(block);
      if (block.type === 'tool_result' && Array.isArray(block.content)) blocks.push(...block.content);
    }
  }
  return blocks;
}

/** Candidate blocks for automatic breakpoints, best first (rule 2). */
function* automaticCandidates(request: Pick<AnthropicMessagesRequest, 'tools' | 'system' | 'messages'>): Generator<Markable> {
  const lastTool = request.tools?.at(-1);
  if (lastTool) yield lastTool;
  const lastSystem = request.system?.at(-1);
  if (lastSystem) yield lastSystem;
  const history = request.messages.slice(0, -1);
  if (history.length === 0) return;
  const prefixTokens = estimateTokens(request.tools) + estimateTokens(request.system) + estimateTokens(history);
  if (prefixTokens >= MIN_CACHEABLE_TOKENS) yield lastBlock(history.at(-1)!.content);
  for (let index = history.length - 2; index >= 0; index--) {
    const turn = history[index]!;
    if (estimateTokens(turn.content) >= MIN_CACHEABLE_TOKENS) yield lastBlock(turn.content);
  }
}

function lastBlock(content: AnthropicContentBlock[]): Markable {
  return content.filter((block) => block.type !== 'thinking' && block.type !== 'redacted_thinking').at(-1) ?? content[content.length - 1]!;
}

/** A rough token estimate (four characters a token), enough to tell a long prefix from a short one. */
export function estimateTokens(value: unknown): number {
  return value === undefined ? 0 : Math.ceil(JSON.stringify(value).length / 4);
}

/** Rule 4: an automatic breakpoint that precedes a 1-hour breakpoint takes the 1-hour TTL. */
function alignTtls(request: Pick<AnthropicMessagesRequest, 'tools' | 'system' | 'messages'>, automatic: Set<Markable>): void {
  let oneHourFollows = false;
  for (const block of markableBlocks(request).reverse()) {
    if (!block.cache_control) continue;
    if (automatic.has(block)) {
      if (oneHourFollows) block.cache_control = { type: 'ephemeral', ttl: '1h' };
    } else if (block.cache_control.ttl === '1h') {
      oneHourFollows = true;
    }
  }
}
