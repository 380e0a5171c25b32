/**
 * OpenAI media content parts (image_url, input_audio, file) → Gemini `inlineData` / `fileData` parts.
 * `data:` URLs travel inline (base64); http(s) URLs become `fileData` with a MIME type guessed from the
 * path's extension, because Gemini needs the type and does not sniff it. What cannot be expressed
 * becomes a warning and the part is dropped.
 */
import type { ChatContentPart, ProviderWarning } from '../../contract/chat';
import type { GeminiPart } from './gemini-request-types';

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic',
  heif: 'image/heif', pdf: 'application/pdf', mp3: 'audio/mp3', wav: 'audio/wav', flac: 'audio/flac', ogg: 'audio/ogg',
  aac: 'audio/aac', mp4: 'video/mp4', mov: 'video/mov', webm: 'video/webm', txt: 'text/plain', csv: 'text/csv',
  html: 'text/html', md: 'text/markdown',
};

export type MediaConversion = { part: GeminiPart } | { warning: ProviderWarning };

/** Guess a MIME type from a URL's path extension (query and fragment ignored). */
export function guessMimeType(url: string): string | undefined {
  let path: string;
  try { path = new URL(url).pathname; } catch { return undefined; }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension ? MIME_BY_EXTENSION[extension] : undefined;
}

/** Split a `data:` URL into MIME type and base64 data (percent-encoded payloads are re-encoded). */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) return undefined;
  const mimeType = match[1] || 'text/plain';
  const isBase64 = (match[2] ?? '').split(';').includes('base64');
  const payload = match[3] ?? '';
  return { mimeType, data: isBase64 ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64') };
}

/** A URL (data or http[s]) → a Gemini part, or a warning saying why it was dropped. */
export function convertUrlToGeminiPart(url: string, setting: string): MediaConversion {
  if (url.startsWith('data:')) {
    const inline = parseDataUrl(url);
    return inline ? { part: { inlineData: inline } } : { warning: { type: 'unsupported-setting', setting, message: 'a malformed data: URL was dropped' } };
  }
  if (/^https?:\/\//i.test(url)) {
    const mimeType = guessMimeType(url);
    if (mimeType) return { part: { fileData: { mimeType, fileUri: url } } };
    return { warning: { type: 'unsupported-setting', setting, message: 'a media URL without a recognisable file extension was dropped (Gemini needs its MIME type)' } };
  }
  return { warning: { type: 'unsupported-setting', setting, message: 'a media URL that is neither data: nor http(s) was dropped' } };
}

/** One non-text OpenAI content part → a Gemini part or a warning. */
export function convertMediaPart(part: ChatContentPart, setting: string): MediaConversion {
  if (part.type === 'image_url') {
    const imageUrl = (part as { image_url?: { url?: unknown } }).image_url;
    if (typeof imageUrl?.url === 'string') return convertUrlToGeminiPart(imageUrl.url, setting);
  }
  if (part.type === 'input_audio') {
    const audio = (part as { input_audio?: { data?: unknown; format?: unknown } }).input_audio;
    if (typeof audio?.data === 'string' && typeof audio.format === 'string') {
      return { part: { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } } };
    }
  }
  if (part.type === 'file') {
    const file = (part as { file?: { file_data?: unknown } }).file;
    if (typeof file?.file_data === 'string') return convertUrlToGeminiPart(file.file_data, setting);
    return { warning: { type: 'unsupported-setting', setting, message: 'file parts are only supported as inline file_data (file_id is an OpenAI upload)' } };
  }
  return { warning: { type: 'unsupported-setting', setting, message: `content part type "${part.type}" is not supported by Gemini and was dropped` } };
}
