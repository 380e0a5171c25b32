/**
 * wellFormed(value): a JSON value whose every string is well-formed Unicode Postgres accepts — a lone
 * UTF-16 surrogate (which JSON.stringify escapes as `\ud800`, and jsonb refuses) or a NUL becomes
 * U+FFFD. The fallback a record that failed on its data is written with (issue 17).
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres refuses
const ILL_FORMED = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/g;

export function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return value.replace(ILL_FORMED, '\ufffd') as T;
  if (Array.isArray(value)) return value.map((item) => wellFormed(item)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [wellFormed(key), wellFormed(item)])) as T;
  }
  return value;
}
