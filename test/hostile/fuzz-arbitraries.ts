/**
 * fast-check generators of hostile requests for every /v1 and /v2 endpoint: mutated chat bodies,
 * paths with bad percent-encoding and control characters, hostile headers, multipart uploads with
 * odd filenames, invalid UTF-8 and lone surrogates, and malformed HTTP the parser must refuse.
 */
import fc from 'fast-check';
import type { RawRequest } from './raw-http';

export interface FuzzContext {
  adminKey: string;
  inferenceKey: string;
  /** An alias whose only target is the OpenAI emulator (answers at once). */
  alias: string;
  fileId: string;
  requestId: string;
  releaseId: string;
}

export interface FuzzRequest extends RawRequest {
  category: string;
}

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b'];

/** Text an attacker would send: any Unicode, lone surrogates, NUL and control characters, odd lengths. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof(fc.constantFrom(...LONE_SURROGATES), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 10 }) },
  {
    weight: 2, arbitrary: fc.constantFrom('', '\u0000', 'a\u0000b', '\r\n', '\t', '\u007f', '\ufffd', '\ufeff', '😀', 'Ω≈ç√ß', 'x'.repeat(2_500),
      "'; DROP TABLE requests; --", '<script>alert(1)</script>', '../../etc/passwd', '%zz', '%00', '${jndi:ldap://x}', '__proto__', 'constructor'),
  },
);

/** A JSON value that may be deeply nested (the depth limit) or hostile. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 5_000 }).map((depth) => nested(depth)) },
  { weight: 1, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.dictionary(hostileText, hostileText, { maxKeys: 3 }) },
);

/** Deep nesting stands in as a marker until serialization (JSON.stringify itself would overflow the stack on it). */
class Nested {
  constructor(readonly depth: number) {}
  toJSON(): string { return `\u0001nested:${this.depth}\u0001`; }
}

function nested(depth: number): unknown {
  return new Nested(depth);
}

/** JSON text of a generated value, with each deep-nesting marker expanded. */
export function serialize(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/"\\u0001nested:(\d+)\\u0001"/g, (_match, depth: string) => {
    const levels = Number(depth);
    const open = Array.from({ length: levels }, (_, level) => (level % 2 ? '[' : '{"a":')).join('');
    const close = Array.from({ length: levels }, (_, level) => (level % 2 ? ']' : '}')).reverse().join('');
    return `${open}1${close}`;
  });
}

/** Percent-encode for a request target (encodeURIComponent, but lone surrogates as raw CESU bytes). */
function encodeSegment(text: string): string {
  return [...text].map((character) => {
    const code = character.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff && character.length === 1) {
      return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((byte) => `%${byte.toString(16)}`).join('');
    }
    return encodeURIComponent(character);
  }).join('');
}

const badEncodings = fc.constantFrom('%zz', '%', '%f', '%ff', '%ed%a0%80', '%c0%af', '%00', 'a%00b', '%0d%0a', '%2F', '%2e%2e', '..', '%E2%82',
  '%25', '%u0041', 'x'.repeat(3_000), '%F0%9F%98%80', '%7f');

function segment(valid: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: hostileText.map(encodeSegment) },
    { weight: 3, arbitrary: badEncodings },
  );
}

const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('?limit=0', '?limit=abc', '?limit=100000', '?after=%00', '?after=%zz', '?order=sideways', '?limit[]=1',
    '?tenant=%00', '?tenant=other', '?purpose=%ff', '?a=1&a=2', '?%zz=1', '?after[x]=1') },
  { weight: 1, arbitrary: fc.tuple(hostileText, hostileText).map(([key, value]) => `?${encodeSegment(key)}=${encodeSegment(value)}`) },
);

/** Header values: printable Latin-1 (what HTTP can carry), sometimes bytes over 0x7f. */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 10 }),
  fc.constantFrom('', ' ', 'x'.repeat(300), '\u00ff\u00fe', 'interactive', 'batch', 'flex', '-1', '0', '1e309', 'NaN', '86400001'),
);

function authorization(context: FuzzContext): fc.Arbitrary<Array<[string, string]>> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant([['authorization', `Bearer ${context.adminKey}`]] as Array<[string, string]>) },
    { weight: 3, arbitrary: fc.constant([['authorization', `Bearer ${context.inferenceKey}`]] as Array<[string, string]>) },
    { weight: 1, arbitrary: fc.constant([] as Array<[string, string]>) },
    { weight: 1, arbitrary: headerValue.map((value) => [['authorization', value]] as Array<[string, string]>) },
    { weight: 1, arbitrary: headerValue.map((value) => [['authorization', `Bearer ${value}`]] as Array<[string, string]>) },
  );
}

/** Optional request-control headers, valid or hostile (deadlines stay long enough for an answer: a short one is a legitimate 504). */
const controlHeaders: fc.Arbitrary<Array<[string, string]>> = fc.tuple(
  fc.option(fc.oneof(fc.constantFrom('interactive', 'standard', 'flex', 'batch'), headerValue), { nil: undefined }),
  fc.option(fc.oneof(fc.integer({ min: 30_000, max: 86_400_000 }).map(String), fc.constantFrom('0', '-5', 'abc', '1e9', '86400001', '')), { nil: undefined }),
  fc.option(fc.oneof(fc.constantFrom('key-1', 'key-2', 'key-3'), headerValue), { nil: undefined }),
  fc.option(headerValue, { nil: undefined }),
  fc.option(fc.tuple(fc.constantFrom('x-zumik-tenant', 'x-forwarded-for', 'accept', 'accept-encoding', 'x-custom'), headerValue), { nil: undefined }),
).map(([qos, deadline, idempotency, requestId, extra]) => [
  ...(qos === undefined ? [] : [['x-zumik-qos-class', qos]]), ...(deadline === undefined ? [] : [['x-zumik-deadline-ms', deadline]]),
  ...(idempotency === undefined ? [] : [['idempotency-key', idempotency]]), ...(requestId === undefined ? [] : [['x-request-id', requestId]]),
  ...(extra === undefined ? [] : [extra]),
] as Array<[string, string]>);

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16',
      'application/json; charset=nonsense', 'text/plain', 'application/x-www-form-urlencoded', 'application/vnd.api+json', 'multipart/form-data',
      '', 'application/json; boundary=%00'),
  },
);

/** A JSON body as bytes: usually the serialization, sometimes with invalid UTF-8 spliced in or cut short. */
function jsonBytes(body: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return fc.tuple(body, fc.nat({ max: 9 }), fc.nat(), fc.constantFrom([0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0x00], [0xf8, 0x88, 0x80, 0x80]))
    .map(([value, mutation, at, bytes]) => {
      const text = Buffer.from(serialize(value), 'utf8');
      const position = text.length === 0 ? 0 : at % text.length;
      if (mutation === 0) return Buffer.concat([text.subarray(0, position), Buffer.from(bytes), text.subarray(position)]);
      if (mutation === 1) return text.subarray(0, position);
      return text;
    });
}

function chatBody(context: FuzzContext): fc.Arbitrary<unknown> {
  const content = fc.oneof(
    { weight: 5, arbitrary: hostileText },
    {
      weight: 1, arbitrary: fc.array(fc.oneof(
        fc.record({ type: fc.constant('text'), text: hostileText }),
        fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.constantFrom('https://example.com/a.png', 'data:image/png;base64,iVBORw0KGgo=', '') }) }),
        hostileJson,
      ), { minLength: 1, maxLength: 3 }),
    },
  );
  const message = fc.oneof(
    { weight: 8, arbitrary: fc.record({ role: fc.constantFrom('user', 'system', 'developer', 'assistant'), content }) },
    { weight: 1, arbitrary: fc.record({ role: fc.constant('tool'), content, tool_call_id: hostileText }, { requiredKeys: ['role', 'content'] }) },
    { weight: 1, arbitrary: fc.record({ role: hostileText, content: hostileJson }, { requiredKeys: [] }) },
  );
  const wild = fc.record({
    model: fc.oneof({ weight: 6, arbitrary: fc.constant(context.alias) }, { weight: 3, arbitrary: hostileText }, { weight: 1, arbitrary: hostileJson }),
    messages: fc.oneof({ weight: 8, arbitrary: fc.array(message, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: hostileJson }),
    stream: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: hostileJson }),
    stream_options: fc.oneof(fc.record({ include_usage: fc.boolean() }), hostileJson),
    temperature: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.double(), hostileJson),
    max_tokens: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer(), hostileJson),
    n: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer(), hostileJson),
    stop: fc.oneof(hostileText, fc.array(hostileText, { maxLength: 6 }), hostileJson),
    tools: fc.oneof(
      fc.array(fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.oneof(fc.constantFrom('get_weather', 'lookup'), hostileText),
        parameters: fc.oneof(fc.constant({ type: 'object', properties: {} }), hostileJson) }) }), { maxLength: 2 }),
      hostileJson),
    response_format: fc.oneof(fc.constantFrom({ type: 'text' }, { type: 'json_object' }), hostileJson),
    service_tier: fc.oneof(fc.constantFrom('auto', 'default', 'flex', 'priority'), hostileText),
    metadata: fc.oneof(fc.dictionary(hostileText, hostileText, { maxKeys: 3 }), hostileJson),
    user: hostileText,
    background: fc.oneof(fc.boolean(), hostileJson),
    [String('unknown_field')]: hostileJson,
  }, { requiredKeys: [] });
  // Valid in shape, hostile in content (lone surrogates, NUL, odd Unicode in the prompt): these reach the provider.
  const nearValid = fc.record({
    model: fc.constant(context.alias),
    messages: fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant'), content: hostileText }), { minLength: 1, maxLength: 3 }),
    stream: fc.boolean(),
    stream_options: fc.record({ include_usage: fc.boolean() }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    max_tokens: fc.integer({ min: 1, max: 64 }),
    metadata: fc.dictionary(hostileText.filter((text) => !text.includes('\u0000')), hostileText.filter((text) => !text.includes('\u0000')), { maxKeys: 2 }),
    user: hostileText.filter((text) => !text.includes('\u0000')),
    response_format: fc.constantFrom({ type: 'text' }, { type: 'json_object' }),
    [String('x_unknown')]: fc.jsonValue({ maxDepth: 3 }),
  }, { requiredKeys: ['model', 'messages'] });
  return fc.oneof({ weight: 3, arbitrary: nearValid }, { weight: 2, arbitrary: wild }).chain((body) => fc.oneof(
    // Sometimes with one hostile key of any name.
    { weight: 5, arbitrary: fc.constant(body) },
    { weight: 1, arbitrary: fc.tuple(hostileText, hostileJson).map(([key, value]) => ({ ...body, [key]: value })) },
  ));
}

/** A Responses API body: near-valid (it reaches the provider) or wild, with items, tools and the refused stateful fields. */
function responsesBody(context: FuzzContext): fc.Arbitrary<unknown> {
  const part = fc.oneof(
    fc.record({ type: fc.constantFrom('input_text', 'output_text'), text: hostileText }),
    fc.record({ type: fc.constant('input_image'), image_url: hostileText, detail: fc.oneof(fc.constantFrom('low', 'auto'), hostileText) }, { requiredKeys: ['type'] }),
    hostileJson,
  );
  const item = fc.oneof(
    fc.record({ role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer'), hostileText), content: fc.oneof(hostileText, fc.array(part, { maxLength: 3 })) },
      { requiredKeys: [] }),
    fc.record({ type: fc.constant('function_call'), call_id: hostileText, name: hostileText, arguments: fc.oneof(hostileText, hostileJson) }, { requiredKeys: ['type'] }),
    fc.record({ type: fc.constant('function_call_output'), call_id: hostileText, output: fc.oneof(hostileText, hostileJson) }, { requiredKeys: ['type'] }),
    hostileJson,
  );
  const wild = fc.record({
    model: fc.oneof({ weight: 6, arbitrary: fc.constant(context.alias) }, { weight: 2, arbitrary: hostileText }, { weight: 1, arbitrary: hostileJson }),
    input: fc.oneof(hostileText, fc.array(item, { maxLength: 4 }), hostileJson),
    instructions: fc.oneof(hostileText, hostileJson),
    tools: fc.oneof(fc.array(fc.record({ type: fc.oneof(fc.constantFrom('function', 'web_search'), hostileText), name: hostileText, parameters: hostileJson },
      { requiredKeys: ['type'] }), { maxLength: 2 }), hostileJson),
    tool_choice: fc.oneof(fc.constantFrom('auto', 'none', 'required'), hostileJson),
    max_output_tokens: fc.oneof(fc.integer({ min: 16, max: 64 }), fc.integer(), hostileJson),
    text: fc.oneof(fc.record({ format: fc.oneof(fc.constantFrom({ type: 'text' }, { type: 'json_object' }), hostileJson) }), hostileJson),
    stream: fc.oneof(fc.boolean(), hostileJson),
    store: fc.oneof(fc.boolean(), hostileJson),
    previous_response_id: fc.oneof(hostileText, hostileJson),
    background: fc.oneof(fc.boolean(), hostileJson),
  }, { requiredKeys: [] });
  const nearValid = fc.record({
    model: fc.constant(context.alias),
    input: fc.oneof(hostileText.filter((text) => text.length > 0), fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: hostileText }), { minLength: 1, maxLength: 3 })),
    instructions: hostileText,
    stream: fc.boolean(),
    max_output_tokens: fc.integer({ min: 16, max: 64 }),
  }, { requiredKeys: ['model', 'input'] });
  return fc.oneof({ weight: 3, arbitrary: nearValid }, { weight: 2, arbitrary: wild });
}

function json(method: string, target: string, body: fc.Arbitrary<unknown>, category: string, context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(authorization(context), controlHeaders, contentType, jsonBytes(body)).map(([auth, control, type, bytes]) => ({
    category, method, target, headers: [...auth, ...control, ...(type ? [['content-type', type] as [string, string]] : [])], body: bytes,
  }));
}

function noBody(method: fc.Arbitrary<string>, target: fc.Arbitrary<string>, category: string, context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(method, target, query, authorization(context), controlHeaders).map(([verb, path, search, auth, control]) => ({
    category, method: verb, target: `${path}${search}`, headers: [...auth, ...control],
  }));
}

/** A multipart/form-data upload for POST /v1/files with hostile filenames, purposes, contents and framing. */
function upload(context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const line = (index: number) => JSON.stringify({ custom_id: `r${index}`, method: 'POST', url: '/v1/chat/completions',
    body: { model: context.alias, messages: [{ role: 'user', content: 'hi' }] } });
  const filename = fc.oneof(
    fc.constant(Buffer.from('input.jsonl')),
    hostileText.map((text) => Buffer.from(text.replace(/["\r\n]/g, ''), 'utf8')),
    fc.constantFrom(Buffer.from('données-ünïcødé-日本語.jsonl', 'utf8'), Buffer.from('caf\xe9.jsonl', 'latin1'), Buffer.from([0xed, 0xa0, 0x80, 0x2e, 0x6a]),
      Buffer.from('a\u0000b.jsonl', 'utf8'), Buffer.from('😀.jsonl', 'utf8'), Buffer.from('x'.repeat(600))),
  );
  const fileContent = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }).map((lines) => Buffer.from(`${Array.from({ length: lines }, (_, index) => line(index)).join('\n')}\n`)) },
    { weight: 2, arbitrary: jsonBytes(hostileJson) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  );
  return fc.tuple(authorization(context), filename, fc.oneof(fc.constant('batch'), hostileText), fileContent,
    fc.constantFrom('plain', 'star', 'no-purpose', 'no-file', 'truncated', 'no-boundary', 'two-files', 'expiry'), fc.boolean())
    .map(([auth, name, purpose, content, shape, purposeFirst]) => {
      const boundary = 'fuzzBoundary7MA4YWxk';
      const purposePart = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n`, 'utf8');
      const disposition = shape === 'star'
        ? Buffer.from(`filename*=UTF-8''${encodeSegment(name.toString('utf8'))}`, 'latin1')
        : Buffer.concat([Buffer.from('filename="'), name, Buffer.from('"')]);
      const filePart = Buffer.concat([Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; `), disposition,
        Buffer.from('\r\ncontent-type: application/jsonl\r\n\r\n'), content, Buffer.from('\r\n')]);
      const expiry = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="expires_after[anchor]"\r\n\r\ncreated_at\r\n`
        + `--${boundary}\r\ncontent-disposition: form-data; name="expires_after[seconds]"\r\n\r\n${purposeFirst ? '3600' : '-1'}\r\n`);
      const parts = [
        ...(shape === 'no-purpose' ? [] : [purposePart]), ...(shape === 'no-file' ? [] : [filePart]), ...(shape === 'two-files' ? [filePart] : []),
        ...(shape === 'expiry' ? [expiry] : []),
      ];
      if (purposeFirst) parts.reverse();
      const body = Buffer.concat([...parts, Buffer.from(shape === 'truncated' ? '' : `--${boundary}--\r\n`)]);
      const type = shape === 'no-boundary' ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}`;
      return { category: 'files-upload', method: 'POST', target: '/v1/files', headers: [...auth, ['content-type', type] as [string, string]], body };
    });
}

/** What Node's HTTP parser itself refuses: malformed request lines, headers, framing, oversize headers. */
function malformed(context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const auth = `authorization: Bearer ${context.adminKey}\r\n`;
  return fc.oneof(
    fc.constantFrom(
      'GARBAGE\r\n\r\n',
      'GET /v1/models HTTP/9.9\r\nhost: x\r\n\r\n',
      'GET  HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /v1/mo dels HTTP/1.1\r\nhost: x\r\n\r\n',
      `GET /v1/models HTTP/1.1\r\nhost: x\r\n${auth}bad header line\r\n\r\n`,
      `GET /v1/models HTTP/1.1\r\nhost: x\r\n${auth}x-bad\u0000: 1\r\n\r\n`,
      `GET /v1/models HTTP/1.1\r\nhost: x\r\n${auth}x-nul: a\u0000b\r\n\r\n`,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}transfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n0\r\n\r\n`,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}transfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}content-length: -1\r\n\r\n`,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}content-length: 1, 2\r\n\r\n{`,
      `GET /v1/models HTTP/1.1\r\nhost: x\r\n${auth}x-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /v1/models HTTP/1.1\r\nhost: x\r\n${auth}${Array.from({ length: 3_000 }, (_, index) => `x-h${index}: v`).join('\r\n')}\r\n\r\n`,
      `GET /v1/models\u00ff HTTP/1.1\r\nhost: x\r\n\r\n`,
      'GET /v1/models HTTP/1.1\nhost: x\n\n',
      `\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003`,
    ),
    // Junk that is only line breaks is no request at all (an idle connection, answered 408 at the headers timeout).
    fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 60 })
      .filter((junk) => /[^\r\n]/.test(junk)).map((junk) => `${junk}\r\n\r\n`),
  ).map((raw) => ({ category: 'malformed', method: 'RAW', target: '', headers: [], raw: Buffer.from(raw, 'latin1') }));
}

/** One generated request, spread over every endpoint. */
export function hostileRequest(context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const alias = segment([context.alias, 'fuzz.other', 'a', 'Z9.x-y_z:1@2+3']);
  const fileId = segment([context.fileId, 'file-abc', 'file-00000000000000000000000000']);
  const requestId = segment([context.requestId, 'chatcmpl-0', 'req_x']);
  const releaseId = segment([context.releaseId, 'alr_00000000000000000000000000']);
  const tenant = segment(['fuzz-other', 'other', 'UPPER', 'a'.repeat(100)]);
  const anyId = segment(['x', 'key_1', 'openai', 'anthropic', 'batch_x']);
  const readMethod = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE');
  const aliasBody = fc.oneof(
    fc.record({ targets: fc.array(fc.record({ execution_profile: fc.oneof(fc.constantFrom('managed_provider', 'byok', 'byoc_epp'), hostileText),
      provider: fc.oneof(fc.constantFrom('openai', 'anthropic'), hostileText), model: hostileText, model_revision: hostileText,
      weight: fc.oneof(fc.integer({ min: -1, max: 100 }), hostileJson) }, { requiredKeys: [] }), { maxLength: 3 }),
    policy_revision: hostileText, capability_manifest_revision: hostileText, alias: hostileText }, { requiredKeys: [] }),
    hostileJson,
  );
  const adminBody = fc.oneof(
    fc.record({ name: hostileText, scopes: fc.oneof(fc.constantFrom(['inference'], ['admin'], []), hostileJson), tenant: hostileText }, { requiredKeys: [] }),
    fc.record({ api_key: hostileText, base_url: fc.oneof(fc.constantFrom('https://example.com/v1', 'http://169.254.169.254/'), hostileText),
      profile: hostileText, metadata: hostileJson }, { requiredKeys: [] }),
    fc.record({ default_qos_class: hostileText, allowed_qos_classes: hostileJson, limits: hostileJson, failover: hostileJson,
      content_filter_failover: hostileJson, aliases: hostileJson }, { requiredKeys: [] }),
    hostileJson,
  );
  const batchBody = fc.record({
    input_file_id: fc.oneof(fc.constant(context.fileId), hostileText), endpoint: fc.oneof(fc.constant('/v1/chat/completions'), hostileText),
    completion_window: fc.oneof(fc.constant('24h'), hostileText), metadata: fc.oneof(fc.dictionary(hostileText, hostileText, { maxKeys: 3 }), hostileJson),
  }, { requiredKeys: [] });
  const base64 = fc.oneof(fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')), hostileText);
  const codecBody = fc.oneof(
    fc.record({ payloads: fc.array(fc.record({
      metadata: fc.oneof(fc.constant({ encoding: Buffer.from('binary/encrypted').toString('base64') }), fc.dictionary(hostileText, base64, { maxKeys: 2 })),
      data: base64 }, { requiredKeys: [] }), { maxLength: 3 }) }),
    hostileJson,
  );
  const surface = fc.constantFrom('/v1', '/v2');
  return fc.oneof(
    { weight: 30, arbitrary: surface.chain((prefix) => json('POST', `${prefix}/chat/completions`, chatBody(context), `chat${prefix}`, context)) },
    { weight: 8, arbitrary: json('POST', '/v1/responses', responsesBody(context), 'responses', context) },
    { weight: 5, arbitrary: noBody(readMethod, alias.map((name) => `/v2/model-aliases/${name}`), 'aliases', context) },
    { weight: 2, arbitrary: noBody(readMethod, alias.map((name) => `/v2/model-aliases/${name}/releases`), 'aliases', context) },
    { weight: 2, arbitrary: noBody(readMethod, releaseId.map((id) => `/v2/model-alias-releases/${id}`), 'aliases', context) },
    // Never the alias the chats use: a fuzzed release there would make their answers provider errors.
    { weight: 6, arbitrary: fc.tuple(alias.filter((name) => name !== context.alias), aliasBody).chain(([name, body]) => json('PUT', `/v2/model-aliases/${name}`, fc.constant(body), 'aliases', context)) },
    { weight: 6, arbitrary: upload(context) },
    { weight: 3, arbitrary: noBody(readMethod, fileId.map((id) => `/v1/files/${id}`), 'files', context) },
    { weight: 3, arbitrary: noBody(fc.constant('GET'), fileId.map((id) => `/v1/files/${id}/content`), 'files', context) },
    { weight: 2, arbitrary: noBody(fc.constant('GET'), fc.constant('/v1/files'), 'files', context) },
    { weight: 4, arbitrary: json('POST', '/v1/batches', batchBody, 'batches', context) },
    { weight: 3, arbitrary: noBody(fc.constantFrom('GET', 'POST'), anyId.map((id) => `/v1/batches/${id}`), 'batches', context) },
    { weight: 2, arbitrary: noBody(fc.constant('POST'), anyId.map((id) => `/v1/batches/${id}/cancel`), 'batches', context) },
    { weight: 1, arbitrary: noBody(fc.constant('GET'), fc.constant('/v1/batches'), 'batches', context) },
    { weight: 5, arbitrary: noBody(fc.constant('GET'), requestId.map((id) => `/v2/requests/${id}`), 'requests', context) },
    { weight: 3, arbitrary: noBody(fc.constant('GET'), alias.map((name) => `/v1/models/${name}`), 'models', context) },
    { weight: 1, arbitrary: noBody(fc.constant('GET'), fc.constantFrom('/v1/models', '/v2/model-aliases', '/v2/circuits', '/v2/api-keys', '/v2/credentials', '/v2/byoc-endpoints', '/healthz', '/readyz'), 'lists', context) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('/v2/api-keys', '/v2/byoc-endpoints/x', '/v2/credentials/openai'), adminBody).chain(([path, body]) => json(path === '/v2/api-keys' ? 'POST' : 'PUT', path, fc.constant(body), 'admin', context)) },
    { weight: 3, arbitrary: fc.tuple(tenant.filter((name) => name !== 'default' && name !== 'acme-fuzz'), adminBody).chain(([name, body]) => json('PUT', `/v2/tenants/${name}/policy`, fc.constant(body), 'admin', context)) },
    { weight: 2, arbitrary: noBody(readMethod, anyId.map((id) => `/v2/byoc-endpoints/${id}`), 'admin', context) },
    { weight: 2, arbitrary: noBody(fc.constantFrom('GET', 'DELETE'), anyId.map((id) => `/v2/credentials/${id}`), 'admin', context) },
    { weight: 1, arbitrary: noBody(fc.constant('DELETE'), anyId.map((id) => `/v2/api-keys/${id}`), 'admin', context) },
    { weight: 2, arbitrary: noBody(fc.constant('GET'), tenant.map((name) => `/v2/tenants/${name}/policy`), 'admin', context) },
    { weight: 4, arbitrary: noBody(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PROPFIND'), fc.tuple(fc.constantFrom('/v1', '/v2', '', '/v3'), anyId, anyId)
      .map(([prefix, first, second]) => `${prefix}/${first}/${second}`), 'paths', context) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('encode', 'decode'), codecBody).chain(([direction, body]) => json('POST', `/v2/codec/${direction}`, fc.constant(body), 'codec', context)) },
    { weight: 4, arbitrary: malformed(context) },
  );
}
