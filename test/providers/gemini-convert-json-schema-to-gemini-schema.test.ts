import { convertJsonSchemaToGeminiSchema, isEmptyObjectSchema, MAX_REF_DEPTH } from '../../src/providers/gemini/convert-json-schema-to-gemini-schema';

describe('convertJsonSchemaToGeminiSchema', () => {
  it('keeps what Gemini accepts, upper-cases types and silently drops additionalProperties and $schema', () => {
    const { schema, dropped } = convertJsonSchemaToGeminiSchema({
      $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false,
      properties: { city: { type: 'string', description: 'City', minLength: 1 }, days: { type: 'integer', minimum: 1, maximum: 7, format: 'int32' } },
      required: ['city', 'unknown'],
    });
    expect(schema).toEqual({
      type: 'OBJECT',
      properties: { city: { type: 'STRING', description: 'City', minLength: '1' }, days: { type: 'INTEGER', minimum: 1, maximum: 7, format: 'int32' } },
      required: ['city'],
    });
    expect(dropped).toEqual([]);
  });

  it('turns nullable unions into nullable, several types into anyOf, oneOf into anyOf', () => {
    expect(convertJsonSchemaToGeminiSchema({ type: ['string', 'null'] }).schema).toEqual({ type: 'STRING', nullable: true });
    expect(convertJsonSchemaToGeminiSchema({ type: ['string', 'number'] }).schema).toEqual({ anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] });
    expect(convertJsonSchemaToGeminiSchema({ anyOf: [{ type: 'integer' }, { type: 'null' }] }).schema).toEqual({ type: 'INTEGER', nullable: true });
    expect(convertJsonSchemaToGeminiSchema({ oneOf: [{ type: 'integer' }, { type: 'boolean' }] }).schema).toEqual({ anyOf: [{ type: 'INTEGER' }, { type: 'BOOLEAN' }] });
  });

  it('maps string const and enums, and reports numeric enums it cannot express', () => {
    expect(convertJsonSchemaToGeminiSchema({ const: 'celsius' }).schema).toEqual({ type: 'STRING', enum: ['celsius'] });
    expect(convertJsonSchemaToGeminiSchema({ type: 'string', enum: ['a', 'b', null] }).schema).toEqual({ type: 'STRING', enum: ['a', 'b'], nullable: true });
    const numeric = convertJsonSchemaToGeminiSchema({ type: 'integer', enum: [1, 2] });
    expect(numeric.schema).toEqual({ type: 'INTEGER' });
    expect(numeric.dropped).toEqual(['enum']);
  });

  it('drops formats Gemini rejects (only enum/date-time on strings)', () => {
    expect(convertJsonSchemaToGeminiSchema({ type: 'string', format: 'email' }).schema).toEqual({ type: 'STRING' });
    expect(convertJsonSchemaToGeminiSchema({ type: 'string', format: 'date-time' }).schema).toEqual({ type: 'STRING', format: 'date-time' });
  });

  it('inlines local $ref definitions and cuts recursion at the depth limit', () => {
    const { schema } = convertJsonSchemaToGeminiSchema({
      type: 'object', properties: { home: { $ref: '#/$defs/address' } }, $defs: { address: { type: 'object', properties: { street: { type: 'string' } } } },
    });
    expect(schema.properties?.home).toEqual({ type: 'OBJECT', properties: { street: { type: 'STRING' } } });

    const recursive = convertJsonSchemaToGeminiSchema({ $ref: '#/definitions/node', definitions: { node: { type: 'object', properties: { child: { $ref: '#/definitions/node' } } } } });
    let depth = 0;
    let node = recursive.schema;
    for (; node.properties?.child; node = node.properties.child) depth++;
    expect(depth).toBe(MAX_REF_DEPTH);
    expect(node).toEqual({ type: 'OBJECT' });
    expect(recursive.dropped).toContain('$ref (recursion)');
  });

  it('merges a single allOf and reports constraints it cannot express', () => {
    const { schema, dropped } = convertJsonSchemaToGeminiSchema({ allOf: [{ type: 'array', items: { type: 'number' }, uniqueItems: true }], not: {} });
    expect(schema).toEqual({ type: 'ARRAY', items: { type: 'NUMBER' } });
    expect(dropped.sort()).toEqual(['not', 'uniqueItems']);
  });
});

describe('isEmptyObjectSchema', () => {
  it('recognises parameter-less tools', () => {
    expect(isEmptyObjectSchema(undefined)).toBe(true);
    expect(isEmptyObjectSchema({ type: 'object', properties: {} })).toBe(true);
    expect(isEmptyObjectSchema({ type: 'object', properties: { a: { type: 'string' } } })).toBe(false);
  });
});
