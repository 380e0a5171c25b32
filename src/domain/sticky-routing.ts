/**
 * Hot lanes (issue 12): a stable hash of a session id or of the prompt's prefix picks a release's
 * target by weighted rendezvous hashing, so one session (or one shared prefix) keeps reaching the same
 * provider or BYOC prefix cache, different keys spread over the targets in proportion to their
 * weights, and changing one target moves only that target's share. Pure and deterministic: the same
 * key hash and release give the same order on every process and on replay.
 */
import type { ChatRequest } from '../contract/chat';
import type { ReleaseTarget, StickyRouting } from './model-alias';

/** The request header a session-sticky release reads its key from unless it names another. */
export const DEFAULT_SESSION_HEADER = 'x-zumik-session-id';
/** How much of the prompt a prefix-sticky release hashes unless it says otherwise. */
export const DEFAULT_PREFIX_CHARS = 2_048;

/** 64 bits of FNV-1a over UTF-16 code units, as 16 hex digits: the recorded key hash (never the key). */
export function stickyKeyHash(key: string): string {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let index = 0; index < key.length; index += 1) {
    low = (low ^ key.charCodeAt(index)) >>> 0;
    // Multiply the 64-bit (high, low) by the FNV prime 0x100000001b3 = 2^40 + 0x1b3, in 32-bit halves.
    const lowProduct = low * 0x1b3;
    const carry = Math.floor(lowProduct / 0x100000000);
    const nextHigh = (Math.imul(high, 0x1b3) + carry + ((low << 8) >>> 0)) >>> 0;
    low = lowProduct >>> 0;
    high = nextHigh;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/**
 * The text a prefix-sticky release hashes: the messages in order (role and text), as the provider's
 * prefix cache sees them; an embeddings body (no messages) hashes its `input`.
 */
export function promptPrefix(body: Pick<ChatRequest, 'messages'> & { input?: unknown }, chars: number): string {
  if (!Array.isArray(body.messages)) return JSON.stringify(body.input ?? null).slice(0, chars);
  let text = '';
  for (const message of body.messages ?? []) {
    const content = typeof message.content === 'string' ? message.content
      : Array.isArray(message.content) ? message.content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('') : '';
    text += `${message.role}\u0000${content}\u0000`;
    if (text.length >= chars) break;
  }
  return text.slice(0, chars);
}

/**
 * The request's sticky key hash under the release's policy, or null when it has none (a session
 * release and a request without the header: a plain weighted draw).
 */
export function stickyKeyOf(sticky: StickyRouting, request: { body: Pick<ChatRequest, 'messages'> & { input?: unknown }; header: (name: string) => string | undefined }): string | null {
  if (sticky.by === 'session') {
    const value = request.header(sticky.header ?? DEFAULT_SESSION_HEADER)?.trim();
    return value ? stickyKeyHash(`session:${value}`) : null;
  }
  return stickyKeyHash(`prefix:${promptPrefix(request.body, sticky.prefix_chars ?? DEFAULT_PREFIX_CHARS)}`);
}

/** A target's identity for rendezvous hashing: what it is, not where it is listed (reordering a release moves nothing). */
function targetIdentity(target: ReleaseTarget, occurrence: number): string {
  return `${target.execution_profile}|${target.provider}|${target.model}|${occurrence}`;
}

/** A uniform number in (0, 1) from a key hash and a target's identity. */
function unitScore(keyHash: string, identity: string): number {
  const hash = stickyKeyHash(`${keyHash}|${identity}`);
  // 52 bits of the hash, shifted off zero: never 0 (ln 0) nor 1 (ln 1 = 0).
  const value = parseInt(hash.slice(0, 13), 16);
  return (value + 0.5) / 2 ** 52;
}

/**
 * Weighted rendezvous order: every target scores `-weight / ln(u)` with `u` drawn from the key hash and
 * the target's identity; the highest score is the pick, the rest follow by score (the failover order,
 * also stable per key). A key lands on a target with probability weight / total weights.
 */
export function rendezvousOrder<T extends { target: ReleaseTarget }>(pool: readonly T[], keyHash: string): T[] {
  const seen = new Map<string, number>();
  const scored = pool.map((entry) => {
    const base = `${entry.target.execution_profile}|${entry.target.provider}|${entry.target.model}`;
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    return { entry, score: -entry.target.weight / Math.log(unitScore(keyHash, targetIdentity(entry.target, occurrence))) };
  });
  return scored.sort((a, b) => b.score - a.score).map(({ entry }) => entry);
}
