import { startTestApp, type TestApp } from '../support/test-app';

describe('health routes', () => {
  let healthy: boolean;
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      readiness: {
        postgres: async () => { await app.database.pool.query('SELECT 1'); },
        temporal: async () => { if (!healthy) throw new Error('connection refused'); },
      },
    });
  });
  afterAll(async () => { await app.close(); });

  it('serves /healthz without authentication', async () => {
    expect(await app.call('GET', '/healthz', { key: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('answers /readyz 200 when every dependency answers and 503 naming the one that does not', async () => {
    healthy = true;
    expect(await app.call('GET', '/readyz', { key: null })).toMatchObject({
      status: 200, body: { status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } },
    });
    healthy = false;
    expect(await app.call('GET', '/readyz', { key: null })).toMatchObject({
      status: 503, body: { status: 'not_ready', checks: { postgres: 'ok', temporal: 'error: connection refused' } },
    });
  });
});
