/**
 * Validates objects against a component schema of OpenAI's OpenAPI document (a copy of
 * openai/openai-openapi in test/fixtures/openai-compatible/openai), so tests prove Zumik's bodies are what OpenAI clients
 * expect. The 90k-line document is parsed once per test file; OpenAPI 3.0 leftovers (`nullable`)
 * are rewritten to JSON Schema 2020-12 before Ajv compiles them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { parse } from 'yaml';

const SPEC_PATH = path.join(__dirname, '..', 'fixtures', 'openai-compatible', 'openai', 'openai-openapi.yaml');
const SPEC_ID = 'https://zumik.test/openai-openapi.json';

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function load(): Ajv2020 {
  if (ajv) return ajv;
  const document = parse(readFileSync(SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as { components: { schemas: Record<string, unknown> } };
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, discriminator: false });
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: rewriteNullable(document.components.schemas) } });
  return ajv;
}

/** `{…, nullable: true}` (OpenAPI 3.0) → `{anyOf: [{…}, {type: 'null'}]}` (JSON Schema), recursively. */
function rewriteNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteNullable);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node).map(([key, value]) => [key, rewriteNullable(value)] as const);
  const object = Object.fromEntries(entries) as Record<string, unknown>;
  if (object.nullable !== true) return object;
  const { nullable: _nullable, description, ...rest } = object;
  return { ...(description !== undefined ? { description } : {}), anyOf: [rest, { type: 'null' }] };
}

export interface ValidationResult {
  valid: boolean;
  errors: ErrorObject[];
}

/** Validate `value` against `#/components/schemas/<schemaName>`. */
export function validateOpenAISchema(schemaName: string, value: unknown): ValidationResult {
  let validate = compiled.get(schemaName);
  if (!validate) {
    const found = load().getSchema(`${SPEC_ID}#/components/schemas/${schemaName}`);
    if (!found) throw new Error(`no schema ${schemaName} in the OpenAI spec`);
    validate = found;
    compiled.set(schemaName, validate);
  }
  const valid = validate(value) as boolean;
  return { valid, errors: validate.errors ? [...validate.errors] : [] };
}

/** Readable errors for a failed expectation. */
export function describeErrors(errors: ErrorObject[]): string {
  return errors.map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`).join('\n');
}

/** The validation problems of `value` against a named OpenAI schema, as readable lines ([] when valid). */
export function validateAgainstSchema(schemaName: string, value: unknown): string[] {
  const result = validateOpenAISchema(schemaName, value);
  return result.valid ? [] : describeErrors(result.errors).split('\n');
}
