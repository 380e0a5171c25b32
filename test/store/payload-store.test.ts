import { PAYLOAD_REF_THRESHOLD_BYTES } from '../../src/domain/payload-ref';
import { PayloadMissingError, PayloadStore } from '../../src/store/payload-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('PayloadStore', () => {
  let database: TestDatabase;
  let payloads: PayloadStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    payloads = new PayloadStore(database.pool);
  });
  afterAll(async () => { await database.drop(); });

  const bigBody = () => ({ model: 'alias', stream: true, messages: [{ role: 'user' as const, content: 'x'.repeat(PAYLOAD_REF_THRESHOLD_BYTES) }], temperature: 0.2 });

  describe('keepBody', () => {
    it('leaves a body at or under the threshold as it is, with no row', async () => {
      const small = { model: 'alias', messages: [{ role: 'user' as const, content: 'hi' }] };
      expect(await payloads.keepBody('acme', small, Date.now())).toEqual({ body: small });
      expect((await database.pool.query('SELECT 1 FROM payloads')).rowCount).toBe(0);
    });

    it('keeps a larger body and answers its stub and reference, which reads back the same body', async () => {
      const body = bigBody();
      const kept = await payloads.keepBody('acme', body, Date.now() + 60_000);
      expect(kept.body).toEqual({ model: 'alias', stream: true, messages: [] });
      expect(kept.bodyRef).toEqual({ ref: expect.stringMatching(/^pl_/), bytes: Buffer.byteLength(JSON.stringify(body)), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(await payloads.get('acme', kept.bodyRef!)).toEqual(body);
    });
  });

  describe('get', () => {
    it('never reads another tenant\'s payload', async () => {
      const ref = await payloads.put('acme', bigBody(), Date.now());
      await expect(payloads.get('globex', ref)).rejects.toBeInstanceOf(PayloadMissingError);
    });

    it('refuses a payload whose bytes do not match its reference', async () => {
      const ref = await payloads.put('acme', { text: 'original' }, Date.now());
      await database.pool.query(`UPDATE payloads SET data = convert_to('{"text":"tampered"}', 'UTF8') WHERE id = $1`, [ref.ref]);
      await expect(payloads.get('acme', ref)).rejects.toThrow(/does not match its reference/);
    });
  });

  it('purges payloads past their expiry (a day after the request\'s deadline)', async () => {
    const ref = await payloads.put('acme', { text: 'old' }, Date.now());
    await database.pool.query(`UPDATE payloads SET expires_at = now() - interval '1 second' WHERE id = $1`, [ref.ref]);
    expect(await payloads.purgeExpired()).toBe(1);
    await expect(payloads.get('acme', ref)).rejects.toThrow(/does not exist/);
  });
});
