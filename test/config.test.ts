import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

describe('loadConfig', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const config = loadConfig({}, []);
    expect(config).toMatchObject({
      port: 8080, host: '127.0.0.1', role: 'all', dataDir: path.resolve('.zumik'), databaseUrl: undefined,
      temporal: { address: undefined, namespace: 'default', devServerPort: 7233, devServerUiPort: 8233 },
    });
    expect(config.providers.openai).toEqual({ apiKey: undefined, baseUrl: undefined });
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '9000', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u@db:5432/zumik', ZUMIK_DATA_DIR: '/var/lib/zumik',
      TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'prod', ANTHROPIC_API_KEY: 'sk-ant-x', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1/',
      ZUMIK_STREAM_BUS: 'redis://redis:6379', ZUMIK_TASK_QUEUE: 'zumik-prod', ZUMIK_TEMPORAL_UI_URL: 'http://ui.example:8080/',
    }, ['--role', 'api']);
    expect(config).toMatchObject({
      port: 9000, host: '0.0.0.0', role: 'api', databaseUrl: 'postgres://u@db:5432/zumik', dataDir: '/var/lib/zumik',
      temporal: { address: 'temporal:7233', namespace: 'prod', taskQueue: 'zumik-prod', uiUrl: 'http://ui.example:8080' },
      streamBus: 'redis://redis:6379',
    });
    expect(config.providers.anthropic).toEqual({ apiKey: 'sk-ant-x', baseUrl: 'http://127.0.0.1:1/' });
    expect(loadConfig({ ZUMIK_STREAM_BUS: 'redis://127.0.0.1:6379' }, ['--role=worker']).role).toBe('worker');
  });

  it('reads the circuit breaker settings, leaving unset ones to the store\'s defaults', () => {
    expect(loadConfig({}, []).circuits).toEqual({});
    expect(loadConfig({
      ZUMIK_CIRCUIT_FAILURE_THRESHOLD: '3', ZUMIK_CIRCUIT_WINDOW_MS: '30000', ZUMIK_CIRCUIT_OPEN_MS: '2000', ZUMIK_CIRCUIT_MAX_OPEN_MS: '15000',
      ZUMIK_CIRCUIT_MAX_PROBES: '2', ZUMIK_CIRCUIT_PROBE_TTL_MS: '10000',
    }, []).circuits).toEqual({ failureThreshold: 3, windowMs: 30_000, openMs: 2_000, maxOpenMs: 15_000, maxProbes: 2, probeTtlMs: 10_000 });
  });

  it('refuses split roles on the in-process stream bus: answers must cross processes', () => {
    expect(() => loadConfig({}, ['--role', 'api'])).toThrow(/ZUMIK_STREAM_BUS: --role api needs a shared bus/);
    expect(() => loadConfig({ ZUMIK_STREAM_BUS: 'kafka://x' }, [])).toThrow(/ZUMIK_STREAM_BUS: /);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ TEMPORAL_ADDRESS: 'http://temporal' }, 'TEMPORAL_ADDRESS'],
    [{ ZUMIK_ADMIN_KEY: 'short' }, 'ZUMIK_ADMIN_KEY'],
    [{ OPENAI_BASE_URL: 'api.openai.com' }, 'OPENAI_BASE_URL'],
    [{ ZUMIK_LOG_LEVEL: 'loud' }, 'ZUMIK_LOG_LEVEL'],
    [{ ZUMIK_CIRCUIT_OPEN_MS: '0' }, 'ZUMIK_CIRCUIT_OPEN_MS'],
    [{ ZUMIK_CIRCUIT_MAX_PROBES: 'two' }, 'ZUMIK_CIRCUIT_MAX_PROBES'],
  ])('stops on %j with a message naming %s', (env, variable) => {
    expect(() => loadConfig(env, [])).toThrow(ConfigError);
    expect(() => loadConfig(env, [])).toThrow(new RegExp(`^invalid configuration:\\n  - ${variable}: `));
  });

  it('names every bad variable at once, and a bad --role', () => {
    try {
      loadConfig({ PORT: 'x', HOST: '' , ZUMIK_LOG_LEVEL: 'loud' }, ['--role', 'boss']);
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(/^PORT: /), expect.stringMatching(/^ZUMIK_LOG_LEVEL: /), expect.stringMatching(/^--role: /),
      ]);
    }
  });

  it('reads the response cache caps, 1 MiB per answer and 64 MiB per tenant by default', () => {
    expect(loadConfig({}, []).responseCache).toEqual({ maxEntryBytes: 1_048_576, maxTenantBytes: 67_108_864 });
    expect(loadConfig({ ZUMIK_CACHE_MAX_ENTRY_BYTES: '2048', ZUMIK_CACHE_MAX_TENANT_BYTES: '4096' }, []).responseCache).toEqual({ maxEntryBytes: 2_048, maxTenantBytes: 4_096 });
    expect(() => loadConfig({ ZUMIK_CACHE_MAX_ENTRY_BYTES: '10' }, [])).toThrow(/ZUMIK_CACHE_MAX_ENTRY_BYTES/);
  });
});
