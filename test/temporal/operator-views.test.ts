import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { REASON_CODES } from '../../src/domain/reason-codes';
import { PROJECT_ROOT } from '../../src/project-root';
import { SearchAttributes } from '../../src/temporal/search-attributes';

/** The README's saved searches: every row of the "visibility query" table in its operator-views section. */
function documentedQueries(): Array<{ question: string; query: string }> {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.split('### Operator views in the Temporal UI')[1]!.split('\n## ')[0]!;
  return [...section.matchAll(/^\| ([^|`]+) \| `(.+)` \|$/gm)].map((match) => ({ question: match[1]!.trim(), query: match[2]! }));
}

describe('README › Operator views in the Temporal UI', () => {
  const queries = documentedQueries();
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  afterAll(async () => { await connection.close(); });

  it('documents the saved searches operators asked for', () => {
    expect(queries.map(({ question }) => question)).toEqual(expect.arrayContaining([
      'failed requests of a tenant', 'fallbacks in the last hour', "a release's traffic", 'requests with a given reason code',
    ]));
  });

  it('names only Zumik search attributes that exist and values Zumik writes', () => {
    const zumikNames = new Set(Object.values(SearchAttributes).map((key) => key.name));
    for (const { query } of queries) {
      for (const [name] of query.matchAll(/Zumik\w+/g)) expect([query, name, zumikNames.has(name)]).toEqual([query, name, true]);
      for (const [, code] of query.matchAll(/ZumikReasonCode (?:= "(\w+)"|IN \(([^)]*)\))/g)) {
        for (const value of (code ?? '').split(',').map((part) => part.trim().replace(/"/g, '')).filter(Boolean)) {
          expect([value, value in REASON_CODES]).toEqual([value, true]);
        }
      }
    }
  });

  it('each query is accepted by the real Temporal server (list and count)', async () => {
    for (const { query } of queries) {
      await expect(client.workflow.count(query)).resolves.toEqual(expect.objectContaining({ count: expect.any(Number) }));
      const listing = (async () => { for await (const _workflow of client.workflow.list({ query, pageSize: 10 })) { /* reading pages */ } })();
      await expect(listing).resolves.toBeUndefined();
    }
  });

  it('a malformed query is refused, so acceptance above means something', async () => {
    await expect(client.workflow.count('ZumikNoSuchAttribute = "x"')).rejects.toThrow();
    await expect(client.workflow.count('ZumikTenant = ')).rejects.toThrow();
  });
});
