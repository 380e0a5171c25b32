import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startTracing } from '../../src/temporal/tracing';

describe('tracing configuration', () => {
  const tracingOf = (env: Record<string, string>) => loadConfig(env, []).tracing;

  it('is off by default, and then installs nothing', () => {
    expect(tracingOf({})).toEqual({ exporter: 'none', serviceName: 'zumik', otlpTracesUrl: undefined });
    expect(startTracing(tracingOf({}))).toBeUndefined();
  });

  it('off, loads nothing of the OpenTelemetry SDK or the Temporal interceptors: only when it is on', () => {
    // The built process's own modules (npm test builds first): what `npm start` loads, in a fresh Node.
    const loaded = (exporter: string) => JSON.parse(execFileSync(process.execPath, ['-e', `
      require('./dist/src/zumik.js');
      require('./dist/src/temporal/tracing.js').startTracing({ exporter: '${exporter}', serviceName: 'zumik' });
      const sdk = Object.keys(require.cache).filter((file) => /@opentelemetry\\/(?!api\\/)|interceptors-opentelemetry/.test(file));
      console.log(JSON.stringify(sdk.length));
    `], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' })) as number;
    expect(loaded('none')).toBe(0);
    expect(loaded('console')).toBeGreaterThan(50);
  });

  it('follows the standard OTEL_* variables: an OTLP endpoint turns it on, OTEL_TRACES_EXPORTER decides', () => {
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({ exporter: 'otlp', otlpTracesUrl: 'http://collector:4318/v1/traces' });
    expect(tracingOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).exporter).toBe('otlp');
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).exporter).toBe('none');
    expect(tracingOf({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'zumik-eu' })).toMatchObject({ exporter: 'console', serviceName: 'zumik-eu' });
  });

  it('refuses an exporter it does not have, naming the variable', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }, [])).toThrow(/OTEL_TRACES_EXPORTER/);
  });

  it('exports spans over OTLP/HTTP to the configured collector, named by OTEL_SERVICE_NAME', async () => {
    const received: Array<{ path: string; type: string; body: Buffer }> = [];
    const collector = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url!, type: request.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      const tracing = startTracing(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'zumik-otlp-test' }))!;
      tracing.tracer.startSpan('exported span').end();
      await tracing.shutdown();
      expect(received).toHaveLength(1);
      expect(received[0]!.path).toBe('/v1/traces');
      expect(received[0]!.body.toString('latin1')).toContain('exported span');
      expect(received[0]!.body.toString('latin1')).toContain('zumik-otlp-test');
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
