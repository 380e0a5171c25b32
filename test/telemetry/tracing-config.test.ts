import { loadConfig } from '../../src/config';
import { startTracing } from '../../src/temporal/tracing';

describe('tracing configuration', () => {
  const tracingOf = (env: Record<string, string>) => loadConfig(env, []).tracing;

  it('is off by default, and then installs nothing', () => {
    expect(tracingOf({})).toEqual({ exporter: 'none', serviceName: 'zumik' });
    expect(startTracing(tracingOf({}))).toBeUndefined();
  });

  it('follows the standard OTEL_* variables: an OTLP endpoint turns it on, OTEL_TRACES_EXPORTER decides', () => {
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).exporter).toBe('otlp');
    expect(tracingOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).exporter).toBe('otlp');
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).exporter).toBe('none');
    expect(tracingOf({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'zumik-eu' })).toEqual({ exporter: 'console', serviceName: 'zumik-eu' });
  });

  it('refuses an exporter it does not have, naming the variable', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }, [])).toThrow(/OTEL_TRACES_EXPORTER/);
  });
});
