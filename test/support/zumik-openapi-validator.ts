/**
 * Validates real answers against Zumik's own OpenAPI document (what GET /openapi.json serves): the
 * answer's schema is looked up by path, method, status and content type, and Ajv's 2020-12 dialect
 * (OpenAPI 3.1's) checks it, `$ref`s into the document's components resolved.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { describeErrors } from './openapi-validator';

const DOCUMENT_ID = 'https://zumik.test/openapi.json';

export class ZumikOpenApi {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: any) {
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: document.components });
  }

  /** The problems of `body` as the answer of `method path` with `status` ([] when it conforms). */
  validateResponse(method: string, path: string, status: number, body: unknown, contentType = 'application/json'): string[] {
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not in the document`];
    const response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
    const schema = response?.content?.[contentType]?.schema;
    if (!schema) return [`${method} ${path} documents no ${contentType} answer with status ${status}`];
    return this.validate(`${method} ${path} ${status}`, schema, body);
  }

  /** The problems of `body` as the request body of `method path` ([] when the document accepts it). */
  validateRequest(method: string, path: string, body: unknown): string[] {
    const schema = this.document.paths[path]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema;
    if (!schema) return [`${method} ${path} documents no JSON request body`];
    return this.validate(`request ${method} ${path}`, schema, body);
  }

  /** Compile every component: the document is valid JSON Schema 2020-12 throughout. */
  compileAll(): void {
    for (const name of Object.keys(this.document.components.schemas)) this.ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/${name}`);
  }

  private validate(key: string, schema: any, body: unknown): string[] {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebase(schema));
      this.compiled.set(key, validate);
    }
    return validate(body) ? [] : describeErrors(validate.errors ?? []).split('\n');
  }
}

/** `#/components/…` refs point into the document added under DOCUMENT_ID. */
function rebase(node: any): any {
  if (Array.isArray(node)) return node.map(rebase);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([key, value]) =>
    [key, key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${DOCUMENT_ID}${value}` : rebase(value)]));
}
