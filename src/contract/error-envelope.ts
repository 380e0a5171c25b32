/**
 * OpenAI's error envelope, the one every Zumik error leaves in (DESIGN.md §3):
 * `{"error":{"message","type","param","code"}}`, with `param` naming the offending field the way
 * OpenAI does (`targets[0].weight`).
 */

export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorEnvelope(message: string, type: string, param: string | null, code: string | null): ErrorEnvelope {
  return { error: { message, type, param, code } };
}

/** `targets[0].weight` from a zod path. */
export function formatParam(path: ReadonlyArray<PropertyKey>): string | null {
  let param = '';
  for (const segment of path) {
    if (typeof segment === 'number') param += `[${segment}]`;
    else param += param ? `.${String(segment)}` : String(segment);
  }
  return param || null;
}
