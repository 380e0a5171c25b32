/**
 * JSON for a jsonb column, for anything that came from outside (clients, providers): Postgres refuses
 * the NUL character (`\u0000`) and lone UTF-16 surrogates (`\ud800`, which JSON.stringify writes as
 * escapes) in jsonb text, and a model or a client may well produce either; each becomes U+FFFD rather
 * than losing the whole record.
 */
export function jsonb(value: unknown): string {
  const text = JSON.stringify(value);
  return /\\u(?:0000|d[89a-f])/.test(text) ? text.replace(/(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g, '$1\\ufffd') : text;
}
