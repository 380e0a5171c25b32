import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { BatchRepository } from '../../src/store/batch-repository';
import { FileNotFoundError, FileRejectedError } from '../../src/store/file-errors';
import { FileStore } from '../../src/store/file-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const requestLine = (customId: string, content = 'hello', overrides: Record<string, unknown> = {}) => JSON.stringify({
  custom_id: customId, method: 'POST', url: '/v1/chat/completions',
  body: { model: 'code.fast', messages: [{ role: 'user', content }] }, ...overrides,
});

/** Yields `text` in pieces of `pieceBytes` (pieces split multi-byte characters and lines anywhere). */
async function* pieces(text: string, pieceBytes = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) yield bytes.subarray(offset, offset + pieceBytes);
}

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** A pool that records the SQL it runs, to show which chunks a read touched. */
function recordingPool(pool: Pool, log: string[]): Pool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
      return (...args: Parameters<Pool['query']>) => {
        log.push(`${String(args[0])} ${JSON.stringify(args[1] ?? [])}`);
        return (target.query as (...rest: unknown[]) => unknown)(...args);
      };
    },
  });
}

describe('FileStore', () => {
  let database: TestDatabase;
  let files: FileStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    files = new FileStore(database.pool, { chunkBytes: 1024 });
  });
  afterAll(async () => { await database.drop(); });

  const countRows = async (fileId: string) => {
    const { rows } = await database.pool.query<{ files: number; chunks: number }>(
      `SELECT (SELECT count(*)::int FROM files WHERE id = $1) AS files, (SELECT count(*)::int FROM file_chunks WHERE file_id = $1) AS chunks`,
      [fileId]);
    return rows[0]!;
  };
  const fileCount = async () => (await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM files')).rows[0]!.n;

  describe('create', () => {
    it('streams a batch file into bounded chunks, counting bytes and lines, and reads it back byte for byte', async () => {
      const text = Array.from({ length: 60 }, (_, index) => requestLine(`req-${index}`, `héllo wörld ✓ ${'x'.repeat(index * 7)}`)).join('\n') + '\n';
      const file = await files.create({ tenantId: 'acme', filename: 'in.jsonl', purpose: 'batch', source: pieces(text, 333) });
      const bytes = Buffer.byteLength(text);
      expect(file).toMatchObject({ id: expect.stringMatching(/^file-[0-9A-Za-z]{24}$/), tenantId: 'acme', filename: 'in.jsonl', purpose: 'batch',
        bytes, lineCount: 60, chunkCount: Math.ceil(bytes / 1024), batchId: null });
      expect(file.expiresAt!.getTime() - file.createdAt.getTime()).toBe(30 * 24 * 3600 * 1000);
      const { rows } = await database.pool.query<{ seq: number; size: number }>(
        'SELECT seq, octet_length(data) AS size FROM file_chunks WHERE file_id = $1 ORDER BY seq', [file.id]);
      expect(rows.map((row) => row.seq)).toEqual([...Array(file.chunkCount).keys()]);
      expect(rows.slice(0, -1).every((row) => row.size === 1024)).toBe(true);
      const opened = await files.openContent('acme', file.id);
      expect(await readAll(opened!.stream)).toBe(text);
    });

    it('accepts a Readable, a last line without a newline and CRLF line ends', async () => {
      const text = `${requestLine('a')}\r\n${requestLine('b')}`;
      const file = await files.create({ tenantId: 'acme', filename: 'crlf.jsonl', purpose: 'batch', source: Readable.from([Buffer.from(text)]) });
      expect(file.lineCount).toBe(2);
      expect((await files.readLines('acme', file.id, 0, 5)).map((line) => (line.value as { custom_id: string }).custom_id)).toEqual(['a', 'b']);
    });

    it.each([
      ['a missing custom_id', [requestLine('a'), requestLine('b'), JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: {} })],
        'line 3: custom_id is required', 'missing_required_parameter'],
      ['an empty custom_id', [requestLine('')], 'line 1: custom_id must be a non-empty string', 'invalid_custom_id'],
      ['a custom_id with a NUL (Postgres cannot store it)', [requestLine('a'), requestLine('b\u0000')], 'line 2: custom_id must not contain control characters', 'invalid_custom_id'],
      ['a custom_id with a lone surrogate', [requestLine('\ud800')], 'line 1: custom_id must not contain control characters or lone UTF-16 surrogates', 'invalid_custom_id'],
      ['a custom_id over 512 characters', [requestLine('c'.repeat(513))], 'line 1: custom_id must be at most 512 characters', 'invalid_custom_id'],
      ['a model over 256 characters', [requestLine('a', 'x', { body: { model: 'm'.repeat(257), messages: [{ role: 'user', content: 'x' }] } })],
        'line 1: body.model must be at most 256 characters', 'invalid_body'],
      ['a duplicate custom_id', [requestLine('a'), requestLine('b'), requestLine('a')], "line 3: custom_id 'a' is a duplicate of line 1", 'duplicate_custom_id'],
      ['a GET', [requestLine('a', 'x', { method: 'GET' })], "line 1: method must be 'POST'", 'invalid_method'],
      ['an endpoint Zumik does not batch', [requestLine('a'), requestLine('b', 'x', { url: '/v1/completions' })], "line 2: url must be one of '/v1/chat/completions', '/v1/embeddings'", 'invalid_url'],
      ['a second endpoint in one file', [requestLine('a'), requestLine('b', 'x', { url: '/v1/embeddings', body: { model: 'm', input: 'x' } })],
        "line 2: url '/v1/embeddings' differs from the first line's '/v1/chat/completions'", 'mismatched_url'],
      ['an embeddings body without input', [requestLine('a', 'x', { url: '/v1/embeddings', body: { model: 'm' } })], 'line 1: body.input', 'invalid_body'],
      ['a streaming body', [requestLine('a', 'x', { body: { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true } })],
        'line 1: body.stream: streaming is not supported in a batch', 'invalid_body'],
      ['a body without messages', [requestLine('a'), requestLine('b', 'x', { body: { model: 'm' } })], 'line 2: body.messages is required', 'invalid_body'],
      ['a bad role', [requestLine('a', 'x', { body: { model: 'm', messages: [{ role: 'robot', content: 'x' }] } })],
        'line 1: body.messages[0]', 'invalid_body'],
      ['a body that is not an object', [requestLine('a', 'x', { body: 'hi' })], 'line 1: body must be a JSON object', 'invalid_body'],
      ['invalid JSON', [requestLine('a'), '{"custom_id": "b",'], 'line 2: not valid JSON', 'invalid_json_line'],
      ['a JSON array', [requestLine('a'), '[1, 2]'], 'line 2: each line must be a JSON object', 'invalid_json_line'],
      ['an empty line', [requestLine('a'), '', requestLine('b')], 'line 2: empty line', 'invalid_json_line'],
    ])('refuses a batch file with %s, naming the line, and stores nothing', async (_case, lines, message, code) => {
      const before = await fileCount();
      const attempt = files.create({ tenantId: 'acme', filename: 'bad.jsonl', purpose: 'batch', source: pieces(`${lines.join('\n')}\n`, 5) });
      await expect(attempt).rejects.toThrow(FileRejectedError);
      const error = (await attempt.catch((caught: unknown) => caught)) as FileRejectedError;
      expect(error.message.startsWith(message)).toBe(true);
      expect(error).toMatchObject({ code, reason: 'invalid' });
      expect(error.line).toBe(Number(/^line (\d+)/.exec(message)![1]));
      expect(await fileCount()).toBe(before);
    });

    it('refuses an empty batch file', async () => {
      await expect(files.create({ tenantId: 'acme', filename: 'e.jsonl', purpose: 'batch', source: pieces('') }))
        .rejects.toMatchObject({ code: 'empty_file' });
    });

    it('refuses a file over the byte limit as too_large, and one over the line limit, storing nothing', async () => {
      const small = new FileStore(database.pool, { chunkBytes: 1024, maxBytes: 5000, maxLines: 10 });
      const before = await fileCount();
      const big = Array.from({ length: 9 }, (_, index) => requestLine(`r${index}`, 'y'.repeat(600))).join('\n');
      await expect(small.create({ tenantId: 'acme', filename: 'big.jsonl', purpose: 'batch', source: pieces(big, 100) }))
        .rejects.toMatchObject({ reason: 'too_large', code: 'file_too_large' });
      const many = Array.from({ length: 11 }, (_, index) => requestLine(`r${index}`)).join('\n');
      await expect(small.create({ tenantId: 'acme', filename: 'many.jsonl', purpose: 'batch', source: pieces(many, 100) }))
        .rejects.toMatchObject({ reason: 'invalid', code: 'too_many_lines', line: 11 });
      expect(await fileCount()).toBe(before);
    });

    it('stores nothing when the source fails part-way or beforeCommit refuses', async () => {
      const before = await fileCount();
      async function* failing() {
        yield Buffer.from(`${requestLine('a', 'z'.repeat(3000))}\n`);
        throw new Error('client went away');
      }
      await expect(files.create({ tenantId: 'acme', filename: 'x.jsonl', purpose: 'batch', source: failing() })).rejects.toThrow('client went away');
      await expect(files.create({
        tenantId: 'acme', filename: 'x.jsonl', purpose: 'batch', source: pieces(requestLine('a', 'z'.repeat(3000))),
        beforeCommit: () => Promise.reject(new Error('purpose was wrong')),
      })).rejects.toThrow('purpose was wrong');
      expect(await fileCount()).toBe(before);
      expect((await database.pool.query('SELECT 1 FROM file_chunks c LEFT JOIN files f ON f.id = c.file_id WHERE f.id IS NULL')).rowCount).toBe(0);
    });

    it('stores other purposes without line validation, and keeps an upload invisible until it commits', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      const pending = files.create({
        tenantId: 'acme', filename: 'notes.txt', purpose: 'user_data', source: pieces('not json\nat all'),
        beforeCommit: async () => { await gate; },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await files.list('acme')).data.map((file) => file.filename)).not.toContain('notes.txt');
      release();
      const file = await pending;
      expect(file).toMatchObject({ purpose: 'user_data', lineCount: 2, expiresAt: null });
      expect(await readAll((await files.openContent('acme', file.id))!.stream)).toBe('not json\nat all');
    });
  });

  describe('get, list and delete', () => {
    it('scopes files to their tenant, lists newest first with cursor pages, filters by purpose, and deletes content', async () => {
      const created = [];
      for (const name of ['one', 'two', 'three']) {
        created.push(await files.create({ tenantId: 'lister', filename: `${name}.jsonl`, purpose: 'batch', source: pieces(requestLine(name, 'w'.repeat(2000))) }));
      }
      await files.create({ tenantId: 'lister', filename: 'other.txt', purpose: 'user_data', source: pieces('x') });
      expect(await files.get('someone-else', created[0]!.id)).toBeUndefined();
      expect(await files.openContent('someone-else', created[0]!.id)).toBeUndefined();
      expect(await files.delete('someone-else', created[0]!.id)).toBe(false);

      const first = await files.list('lister', { purpose: 'batch', limit: 2 });
      expect(first.data.map((file) => file.filename)).toEqual(['three.jsonl', 'two.jsonl']);
      expect(first.hasMore).toBe(true);
      const second = await files.list('lister', { purpose: 'batch', limit: 2, after: first.data[1]!.id });
      expect(second.data.map((file) => file.filename)).toEqual(['one.jsonl']);
      expect(second.hasMore).toBe(false);
      expect((await files.list('lister', { order: 'asc' })).data.map((file) => file.filename)).toEqual(['one.jsonl', 'two.jsonl', 'three.jsonl', 'other.txt']);

      expect(await files.delete('lister', created[0]!.id)).toBe(true);
      expect(await files.get('lister', created[0]!.id)).toBeUndefined();
      expect(await countRows(created[0]!.id)).toEqual({ files: 0, chunks: 0 });
      expect(await files.delete('lister', created[0]!.id)).toBe(false);
    });

    it('hides expired files and purges them with their chunks', async () => {
      const file = await files.create({ tenantId: 'acme', filename: 'old.jsonl', purpose: 'batch', source: pieces(requestLine('old')) });
      await database.pool.query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = $1`, [file.id]);
      expect(await files.get('acme', file.id)).toBeUndefined();
      expect(await files.purgeExpired()).toBeGreaterThanOrEqual(1);
      expect(await countRows(file.id)).toEqual({ files: 0, chunks: 0 });
    });
  });

  describe('openContent', () => {
    it('fetches chunks as the reader pulls, not the whole file up front', async () => {
      const text = Array.from({ length: 400 }, (_, index) => requestLine(`s${index}`, 'q'.repeat(200))).join('\n');
      const file = await files.create({ tenantId: 'acme', filename: 'lazy.jsonl', purpose: 'batch', source: pieces(text, 4096) });
      expect(file.chunkCount).toBeGreaterThan(50);
      const { stream } = (await files.openContent('acme', file.id))!;
      const iterator = stream[Symbol.asyncIterator]();
      expect(((await iterator.next()).value as Buffer).toString()).toBe(text.slice(0, 1024));
      // Chunks the stream has not fetched yet are gone now; a reader that had loaded the file would not notice.
      await database.pool.query('DELETE FROM file_chunks WHERE file_id = $1 AND seq >= 10', [file.id]);
      await expect((async () => { for (;;) if ((await iterator.next()).done) return; })()).rejects.toThrow(FileNotFoundError);
    });
  });

  describe('readLines', () => {
    it('pages through every line exactly, including lines longer than a chunk and lines split across chunks', async () => {
      const lines = Array.from({ length: 40 }, (_, index) => requestLine(`p${index}`, `ü${'m'.repeat((index * 389) % 2600)}`));
      const file = await files.create({ tenantId: 'acme', filename: 'pages.jsonl', purpose: 'batch', source: pieces(`${lines.join('\n')}\n`, 1000) });
      const expected = lines.map((line, index) => ({ index, value: JSON.parse(line) as unknown }));
      for (const pageSize of [1, 3, 7, 40]) {
        const read = [];
        for (let from = 0; from < 40; from += pageSize) read.push(...await files.readLines('acme', file.id, from, pageSize));
        expect(read).toEqual(expected);
      }
      expect(await files.readLines('acme', file.id, 38, 10)).toEqual(expected.slice(38));
      expect(await files.readLines('acme', file.id, 40, 10)).toEqual([]);
      await expect(files.readLines('other', file.id, 0, 1)).rejects.toThrow(FileNotFoundError);
    });

    it('reads only the chunks the page spans', async () => {
      const lines = Array.from({ length: 300 }, (_, index) => requestLine(`c${index}`, 'k'.repeat(300)));
      const file = await files.create({ tenantId: 'acme', filename: 'index.jsonl', purpose: 'batch', source: pieces(lines.join('\n'), 8192) });
      expect(file.chunkCount).toBeGreaterThan(100);
      const log: string[] = [];
      const recorded = new FileStore(recordingPool(database.pool, log), { chunkBytes: 1024 });
      const page = await recorded.readLines('acme', file.id, 250, 3);
      expect(page.map((line) => (line.value as { custom_id: string }).custom_id)).toEqual(['c250', 'c251', 'c252']);
      expect(log.filter((sql) => sql.startsWith('SELECT data FROM file_chunks')).length).toBeLessThanOrEqual(3);
    });
  });

  describe('batch result files', () => {
    it('keeps a result whose answer has a NUL and lone surrogates (jsonb refuses them): stored as U+FFFD, never a stuck batch', async () => {
      const batch = await new BatchRepository(database.pool).create({ tenantId: 'acme', endpoint: '/v1/chat/completions', inputFileId: 'file-x' });
      const body = { response: { status_code: 200, request_id: 'chatcmpl-s', body: { choices: [{ message: { content: 'a\u0000b\ud800c' } }] } }, error: null };
      expect(await files.appendResult({ batchId: batch.id, customId: 'req-s', lineIndex: 0, kind: 'output', body })).toBe(true);
      const outputFile = await files.createResultFile({ tenantId: 'acme', batchId: batch.id, kind: 'output' });
      const line = JSON.parse(await readAll((await files.openContent('acme', outputFile.id))!.stream));
      expect(line.response.body.choices[0].message.content).toBe('a\ufffdb\ufffdc');
    });

    const batches = () => new BatchRepository(database.pool);
    const output = (content: string, requestId = 'chatcmpl-1') =>
      ({ response: { status_code: 200, request_id: requestId, body: { id: requestId, object: 'chat.completion', choices: [{ message: { content } }] } }, error: null });

    it('streams the rows of one batch and kind in line order, in OpenAI output line format', async () => {
      const batch = await batches().create({ tenantId: 'acme', endpoint: '/v1/chat/completions', inputFileId: 'file-x' });
      for (const lineIndex of [4, 0, 2, 1, 3]) {
        const kind = lineIndex === 3 ? 'error' : 'output';
        const body = kind === 'error' ? { response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }
          : output(`answer ${lineIndex} “ünïcode”`, `chatcmpl-${lineIndex}`);
        expect(await files.appendResult({ batchId: batch.id, customId: `req-${lineIndex}`, lineIndex, kind, body })).toBe(true);
      }
      const outputFile = await files.createResultFile({ tenantId: 'acme', batchId: batch.id, kind: 'output' });
      expect(outputFile).toMatchObject({ purpose: 'batch_output', filename: `${batch.id}_output.jsonl`, lineCount: 4, batchId: batch.id, resultKind: 'output' });
      const text = await readAll((await files.openContent('acme', outputFile.id))!.stream);
      expect(Buffer.byteLength(text)).toBe(outputFile.bytes);
      const parsed = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(parsed.map((line) => line.custom_id)).toEqual(['req-0', 'req-1', 'req-2', 'req-4']);
      expect(Object.keys(parsed[0]!)).toEqual(['id', 'custom_id', 'response', 'error']);
      expect(parsed[0]).toEqual({ id: expect.stringMatching(/^batch_req_[0-9A-Za-z]{24}$/), custom_id: 'req-0', error: null,
        response: { status_code: 200, request_id: 'chatcmpl-0', body: { id: 'chatcmpl-0', object: 'chat.completion', choices: [{ message: { content: 'answer 0 “ünïcode”' } }] } } });
      // The same ids on every read.
      expect(await readAll((await files.openContent('acme', outputFile.id))!.stream)).toBe(text);

      const errorFile = await files.createResultFile({ tenantId: 'acme', batchId: batch.id, kind: 'error' });
      const errorText = await readAll((await files.openContent('acme', errorFile.id))!.stream);
      expect(JSON.parse(errorText)).toMatchObject({ custom_id: 'req-3', response: null, error: { code: 'batch_expired' } });
      expect(await files.resultCounts(batch.id)).toEqual({ output: 4, error: 1 });
      expect((await files.createResultFile({ tenantId: 'acme', batchId: batch.id, kind: 'output' })).id).toBe(outputFile.id);
      expect(await files.get('other', outputFile.id)).toBeUndefined();
    });

    it('pages through results larger than one page', async () => {
      const batch = await batches().create({ tenantId: 'acme', endpoint: '/v1/chat/completions', inputFileId: 'file-y' });
      await Promise.all(Array.from({ length: 250 }, (_, lineIndex) =>
        files.appendResult({ batchId: batch.id, customId: `r${lineIndex}`, lineIndex, kind: 'output', body: output(`n${lineIndex}`) })));
      const file = await files.createResultFile({ tenantId: 'acme', batchId: batch.id, kind: 'output' });
      const text = await readAll((await files.openContent('acme', file.id))!.stream);
      expect(text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id))
        .toEqual(Array.from({ length: 250 }, (_, index) => `r${index}`));
      expect(file.bytes).toBe(Buffer.byteLength(text));
    });

    it('appends exactly once per custom_id under concurrent duplicate inserts', async () => {
      const batch = await batches().create({ tenantId: 'acme', endpoint: '/v1/chat/completions', inputFileId: 'file-z' });
      const outcomes = await Promise.all(Array.from({ length: 24 }, (_, attempt) => files.appendResult({
        batchId: batch.id, customId: 'same', lineIndex: 0, kind: attempt % 2 ? 'error' : 'output',
        body: attempt % 2 ? { response: null, error: { code: 'x', message: `attempt ${attempt}` } } : output(`attempt ${attempt}`),
      })));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const { rows } = await database.pool.query('SELECT custom_id FROM batch_results WHERE batch_id = $1', [batch.id]);
      expect(rows).toHaveLength(1);
      const counts = await files.resultCounts(batch.id);
      expect(counts.output + counts.error).toBe(1);
    });
  });
});
