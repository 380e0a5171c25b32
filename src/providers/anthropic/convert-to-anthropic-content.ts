/**
 * OpenAI content parts → Anthropic content blocks: text (with the caller's cache markers translated),
 * images (data: URLs → base64 source, http(s) URLs → url source) and PDF files → document blocks.
 * Parts Anthropic cannot take are dropped with a warning, never sent half-converted.
 */
import type { ChatContentPart, ProviderWarning } from '../../contract/chat';
import type { AnthropicCacheControl, AnthropicContentBlock, AnthropicDocumentBlock, AnthropicImageBlock, AnthropicTextBlock } from './anthropic-api';

/**
 * The caller's own cache marker on a part: Anthropic-style `cache_control` as is, or OpenAI's
 * `prompt_cache_breakpoint: {mode: "explicit"}` as a default (5-minute) ephemeral breakpoint.
 */
export function callerCacheControl(part: Record<string, unknown>): AnthropicCacheControl | undefined {
  const cacheControl = part.cache_control as { type?: unknown; ttl?: unknown } | undefined;
  if (cacheControl && typeof cacheControl === 'object' && cacheControl.type === 'ephemeral') {
    return cacheControl.ttl === '5m' || cacheControl.ttl === '1h' ? { type: 'ephemeral', ttl: cacheControl.ttl } : { type: 'ephemeral' };
  }
  const breakpoint = part.prompt_cache_breakpoint as { mode?: unknown } | undefined;
  if (breakpoint && typeof breakpoint === 'object' && breakpoint.mode === 'explicit') return { type: 'ephemeral' };
  return undefined;
}

/** A plain string as text blocks: none for an empty string (Anthropic rejects empty text blocks). */
export function textBlocks(text: string): AnthropicTextBlock[] {
  return text.length > 0 ? [{ type: 'text', text }] : [];
}

/** Convert the parts of one message; `allowMedia` is false for system content, which takes text only. */
export function convertContentParts(content: string | ChatContentPart[], role: string, allowMedia: boolean,
  warnings: ProviderWarning[]): AnthropicContentBlock[] {
  if (typeof content === 'string') return textBlocks(content);
  const blocks: AnthropicContentBlock[] = [];
  for (const part of content as Array<Record<string, unknown>>) {
    const block = convertPart(part, allowMedia);
    if (!block) {
      warnings.push({ type: 'unsupported-setting', setting: `messages[].content[].${String(part.type)}`,
        message: `Anthropic cannot take a '${String(part.type)}' part in a ${role} message; it was dropped.` });
      continue;
    }
    if (block.type === 'text' && block.text.length === 0) continue;
    const cacheControl = callerCacheControl(part);
    if (cacheControl) block.cache_control = cacheControl;
    blocks.push(block);
  }
  return blocks;
}

function convertPart(part: Record<string, unknown>, allowMedia: boolean): AnthropicContentBlock | undefined {
  if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
  if (!allowMedia) return undefined;
  if (part.type === 'image_url') {
    const imageUrl = part.image_url as { url?: unknown } | string | undefined;
    const url = typeof imageUrl === 'string' ? imageUrl : imageUrl?.url;
    return typeof url === 'string' ? convertUrl(url) : undefined;
  }
  if (part.type === 'file') {
    const file = part.file as { file_data?: unknown; filename?: unknown } | undefined;
    if (typeof file?.file_data !== 'string') return undefined; // file_id references live in OpenAI's file store
    const block = file.file_data.startsWith('data:')
      ? convertUrl(file.file_data)
      : { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: file.file_data } } satisfies AnthropicDocumentBlock;
    if (block?.type === 'document' && typeof file.filename === 'string') block.title = file.filename;
    return block;
  }
  return undefined;
}

/** An image or PDF URL: `data:` URLs become inline base64, http(s) URLs are fetched by Anthropic. */
export function convertUrl(url: string): AnthropicImageBlock | AnthropicDocumentBlock | undefined {
  const dataUrl = /^data:([^;,]+)((?:;[^;,]+)*?)(;base64)?,(.*)$/s.exec(url);
  if (dataUrl) {
    const mediaType = dataUrl[1]!.toLowerCase();
    const data = dataUrl[3] ? dataUrl[4]! : Buffer.from(decodeURIComponent(dataUrl[4]!), 'utf8').toString('base64');
    if (mediaType.startsWith('image/')) return { type: 'image', source: { type: 'base64', media_type: mediaType, data } };
    if (mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data } };
    return undefined;
  }
  if (/^https?:\/\//i.test(url)) {
    return /\.pdf(?:$|[?#])/i.test(url) ? { type: 'document', source: { type: 'url', url } } : { type: 'image', source: { type: 'url', url } };
  }
  return undefined;
}
