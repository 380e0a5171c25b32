/**
 * The Anthropic emulator's prompt cache: tells which input tokens a request reads from the cache and
 * which it writes, from the `cache_control` markers it received (PROVIDERS.md §2.5). A prefix is
 * written the first time a breakpoint ends on it and read when a later request repeats it, looking
 * back up to 20 blocks from each breakpoint as Anthropic does. Tokens are estimated (4 chars a token).
 */
import { createHash } from 'node:crypto';

export interface EmulatedInputUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

interface PrefixBlock {
  /** Running hash of the prefix ending with this block (markers excluded). */
  key: string;
  /** Estimated tokens of the prefix ending with this block. */
  prefixTokens: number;
  cacheControl?: { ttl?: unknown };
}

const LOOKBACK_BLOCKS = 20;

export class EmulatedPromptCache {
  private readonly entries = new Set<string>();

  /** @param minCacheableTokens prefixes shorter than this are never cached (silently, as Anthropic does). */
  constructor(private readonly minCacheableTokens: number) {}

  clear(): void {
    this.entries.clear();
  }

  /** Account one request's input, recording the prefixes it writes. */
  account(body: Record<string, unknown>): EmulatedInputUsage {
    const blocks = prefixBlocks(body);
    const total = blocks.at(-1)?.prefixTokens ?? 0;
    const breakpoints = blocks.map((block, index) => ({ block, index })).filter(({ block }) => block.cacheControl);
    let read = 0;
    for (const { index } of breakpoints) {
      for (let back = index; back >= Math.max(0, index - LOOKBACK_BLOCKS + 1); back--) {
        const candidate = blocks[back]!;
        if (this.entries.has(candidate.key)) { read = Math.max(read, candidate.prefixTokens); break; }
      }
    }
    let covered = read;
    const creation = { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 };
    for (const { block } of breakpoints) {
      if (block.prefixTokens < this.minCacheableTokens) continue;
      this.entries.add(block.key);
      if (block.prefixTokens <= covered) continue;
      const written = block.prefixTokens - covered;
      if (block.cacheControl?.ttl === '1h') creation.ephemeral_1h_input_tokens += written;
      else creation.ephemeral_5m_input_tokens += written;
      covered = block.prefixTokens;
    }
    const written = creation.ephemeral_5m_input_tokens + creation.ephemeral_1h_input_tokens;
    return { input_tokens: Math.max(1, total - read - written), cache_creation_input_tokens: written, cache_read_input_tokens: read, cache_creation: creation };
  }
}

/** A request's whole input in the emulator's token estimate (what `count_tokens` answers; `account` splits the same total). */
export function countInputTokens(body: Record<string, unknown>): number {
  return Math.max(1, prefixBlocks(body).at(-1)?.prefixTokens ?? 0);
}

/** Tools, then system, then message blocks, each with its prefix hash and size. A top-level `cache_control` marks the last block. */
function prefixBlocks(body: Record<string, unknown>): PrefixBlock[] {
  const raw: Array<Record<string, unknown>> = [];
  for (const tool of asArray(body.tools)) raw.push(tool);
  for (const block of typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : asArray(body.system)) raw.push(block);
  for (const message of asArray(body.messages)) {
    const content = message.content;
    for (const block of typeof content === 'string' ? [{ type: 'text', text: content }] : asArray(content)) raw.push({ ...block, role: message.role });
  }
  const automatic = body.cache_control as { ttl?: unknown } | undefined;
  let hash = '';
  let tokens = 0;
  return raw.map((block, index) => {
    const { cache_control: cacheControl, ...content } = block;
    const text = JSON.stringify(content);
    hash = createHash('sha256').update(hash).update(text).digest('hex');
    tokens += Math.ceil(text.length / 4);
    const marker = (cacheControl as { ttl?: unknown } | undefined) ?? (index === raw.length - 1 ? automatic : undefined);
    return { key: hash, prefixTokens: tokens, ...(marker ? { cacheControl: marker } : {}) };
  });
}

function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [];
}

/** How many `cache_control` markers a request carries (Anthropic rejects more than four). */
export function countCacheMarkers(body: Record<string, unknown>): number {
  let count = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'cache_control' && child) count += 1;
        else visit(child);
      }
    }
  };
  visit({ tools: body.tools, system: body.system, messages: body.messages });
  return count;
}
