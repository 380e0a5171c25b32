/**
 * JSON Schema (what OpenAI tools and `json_schema` response formats carry) → Gemini's `Schema`, the
 * OpenAPI 3 subset that `functionDeclarations[].parameters` and `responseSchema` accept. Gemini rejects
 * unknown keywords with a 400, so the schema is rebuilt from an allow-list instead of passed through.
 *
 * Kept: type (upper-cased), title, description, enum (strings), default, example, items, minItems,
 * maxItems, properties, required, minProperties, maxProperties, minLength, maxLength, pattern, minimum,
 * maximum, anyOf, nullable, and `format` where Gemini allows it (`enum`/`date-time` on strings,
 * `int32`/`int64` on integers, `float`/`double` on numbers).
 * Rewritten: `type: [T, "null"]` and `anyOf` with `{type:"null"}` → `nullable`; several types → `anyOf`;
 * `oneOf` → `anyOf`; a string `const` → one-value `enum`; local `$ref` (`#/$defs/…`, `#/definitions/…`)
 * inlined up to {@link MAX_REF_DEPTH} levels; a one-element `allOf` merged.
 * Dropped silently (no meaning lost for generation): `$schema`, `$id`, `$comment`, `$defs`,
 * `definitions`, `additionalProperties`, `unevaluatedProperties`, `examples`, `readOnly`, `writeOnly`,
 * `deprecated`, unsupported `format`s, `contentEncoding`, `contentMediaType`, `strict`.
 * Dropped and reported (constraints Gemini cannot express): everything else, e.g. `not`, `if`/`then`/
 * `else`, multi-element `allOf`, `patternProperties`, `exclusiveMinimum`, `multipleOf`, `uniqueItems`,
 * `prefixItems`, non-string `enum`/`const`, recursive `$ref` beyond the depth limit.
 */
import type { GeminiSchema } from './gemini-request-types';

/** Recursive schemas are inlined this deep, then cut to `{ type: 'OBJECT' }` (and reported). */
export const MAX_REF_DEPTH = 8;

type JsonSchema = Record<string, unknown>;

const SILENT = new Set(['$schema', '$id', '$comment', '$defs', 'definitions', 'additionalProperties', 'unevaluatedProperties',
  'examples', 'readOnly', 'writeOnly', 'deprecated', 'format', 'contentEncoding', 'contentMediaType', 'strict']);
const HANDLED = new Set(['type', 'title', 'description', 'enum', 'const', 'default', 'example', 'items', 'minItems', 'maxItems',
  'properties', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'anyOf',
  'oneOf', 'allOf', '$ref', 'nullable']);
const FORMATS: Record<string, string[]> = { STRING: ['enum', 'date-time'], INTEGER: ['int32', 'int64'], NUMBER: ['float', 'double'] };
const TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT']);
const COUNTS = ['minItems', 'maxItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength'] as const;

export interface ConvertedGeminiSchema {
  schema: GeminiSchema;
  /** JSON-Schema keywords whose constraint was lost (deduplicated), for a warning. */
  dropped: string[];
}

/** Convert a JSON Schema; the root is resolved against itself for `$ref`. */
export function convertJsonSchemaToGeminiSchema(root: JsonSchema): ConvertedGeminiSchema {
  const dropped = new Set<string>();
  const schema = convertNode(root, root, 0, dropped);
  return { schema, dropped: [...dropped] };
}

/** True when a JSON Schema describes an object with no properties (Gemini rejects empty `properties` on parameters). */
export function isEmptyObjectSchema(schema: JsonSchema | undefined): boolean {
  if (!schema) return true;
  const properties = schema.properties as JsonSchema | undefined;
  return (schema.type === undefined || schema.type === 'object') && (!properties || Object.keys(properties).length === 0)
    && schema.anyOf === undefined && schema.oneOf === undefined && schema.$ref === undefined && schema.allOf === undefined;
}

function convertNode(node: JsonSchema, root: JsonSchema, depth: number, dropped: Set<string>): GeminiSchema {
  if (typeof node.$ref === 'string') {
    const target = resolveRef(node.$ref, root);
    if (!target || depth >= MAX_REF_DEPTH) {
      dropped.add(target ? '$ref (recursion)' : '$ref');
      return { type: 'OBJECT', ...(typeof node.description === 'string' ? { description: node.description } : {}) };
    }
    const { $ref: _ref, ...siblings } = node;
    return convertNode({ ...target, ...siblings }, root, depth + 1, dropped);
  }
  if (Array.isArray(node.allOf)) {
    const { allOf, ...rest } = node;
    if (allOf.length === 1 && isObject(allOf[0])) return convertNode({ ...allOf[0], ...rest }, root, depth, dropped);
    dropped.add('allOf');
    return convertNode(rest, root, depth, dropped);
  }
  for (const key of Object.keys(node)) if (!HANDLED.has(key) && !SILENT.has(key)) dropped.add(key);

  const result: GeminiSchema = {};
  applyType(node, result, root, depth, dropped);
  if (typeof node.title === 'string') result.title = node.title;
  if (typeof node.description === 'string') result.description = node.description;
  if (node.default !== undefined) result.default = node.default;
  if (node.example !== undefined) result.example = node.example;
  if (typeof node.pattern === 'string') result.pattern = node.pattern;
  if (typeof node.minimum === 'number') result.minimum = node.minimum;
  if (typeof node.maximum === 'number') result.maximum = node.maximum;
  for (const key of COUNTS) if (typeof node[key] === 'number') result[key] = String(node[key]);
  applyEnum(node, result, dropped);
  if (typeof node.format === 'string' && result.type && FORMATS[result.type]?.includes(node.format)) result.format = node.format;
  if (isObject(node.properties)) {
    result.properties = Object.fromEntries(Object.entries(node.properties)
      .filter((entry): entry is [string, JsonSchema] => isObject(entry[1]))
      .map(([name, child]) => [name, convertNode(child, root, depth, dropped)]));
    if (Array.isArray(node.required)) result.required = node.required.filter((name): name is string => typeof name === 'string' && name in result.properties!);
  }
  if (isObject(node.items)) result.items = convertNode(node.items, root, depth, dropped);
  else if (node.items !== undefined) dropped.add('items (tuple)');
  if (node.nullable === true) result.nullable = true;
  return result;
}

function applyType(node: JsonSchema, result: GeminiSchema, root: JsonSchema, depth: number, dropped: Set<string>): void {
  const variants = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  const types = (Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type]).map((type) => String(type).toUpperCase());
  if (types.includes('NULL')) result.nullable = true;
  const nonNull = types.filter((type) => TYPES.has(type)) as NonNullable<GeminiSchema['type']>[];
  if (nonNull.length === 1) result.type = nonNull[0];
  else if (nonNull.length > 1 && !variants) result.anyOf = nonNull.map((type) => ({ type }));
  if (!variants) return;
  const schemas = variants.filter(isObject);
  const withoutNull = schemas.filter((variant) => variant.type !== 'null');
  if (withoutNull.length < schemas.length) result.nullable = true;
  if (withoutNull.length === 1 && nonNull.length === 0) Object.assign(result, convertNode(withoutNull[0]!, root, depth, dropped), result.nullable ? { nullable: true } : {});
  else if (withoutNull.length > 0) result.anyOf = withoutNull.map((variant) => convertNode(variant, root, depth, dropped));
}

function applyEnum(node: JsonSchema, result: GeminiSchema, dropped: Set<string>): void {
  if (node.const !== undefined) {
    if (typeof node.const === 'string') { result.type ??= 'STRING'; result.enum = [node.const]; } else dropped.add('const');
  }
  if (!Array.isArray(node.enum)) return;
  const values = node.enum.filter((value) => value !== null);
  if (values.length < node.enum.length) result.nullable = true;
  if (values.every((value): value is string => typeof value === 'string')) {
    result.type ??= 'STRING';
    result.enum = values;
  } else dropped.add('enum');
}

function resolveRef(reference: string, root: JsonSchema): JsonSchema | undefined {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(reference);
  if (!match) return reference === '#' ? root : undefined;
  const container = root[match[1]!];
  const name = match[2]!.replace(/~1/g, '/').replace(/~0/g, '~');
  return isObject(container) && isObject(container[name]) ? container[name] : undefined;
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
