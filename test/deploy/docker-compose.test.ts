import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/project-root';

interface Service {
  image?: string; build?: unknown; command?: unknown; healthcheck?: unknown; environment?: Record<string, string>; ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

// No Docker engine runs here, so the production topology is checked as data: the services the
// design names, a health check on every long-running one, and start order on health.
describe('docker-compose.yml', () => {
  const compose = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
  const services = compose.services;
  const oneShot = (service: Service) => Object.values(services).some((other) =>
    Object.entries(other.depends_on ?? {}).some(([name, { condition }]) => services[name] === service && condition === 'service_completed_successfully'));

  it('has PostgreSQL, Temporal on PostgreSQL with its schema job, the Temporal UI, and Zumik api and worker roles', () => {
    expect(services.postgresql?.image).toMatch(/^postgres:/);
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(JSON.stringify(services['temporal-schema']?.command)).toContain('update-schema');
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
    expect(services['zumik-api']?.command).toEqual(['--role', 'api']);
    expect(services['zumik-worker']?.command).toEqual(['--role', 'worker']);
  });

  it('publishes the unauthenticated Temporal UI on the host loopback only, and the Temporal frontend and databases not at all', () => {
    expect(services['temporal-ui']?.ports).toEqual(['127.0.0.1:8233:8080']);
    for (const name of ['temporal', 'postgresql', 'redis']) expect([name, services[name]?.ports]).toEqual([name, undefined]);
  });

  it('gives every long-running service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!oneShot(service)) expect([name, Boolean(service.healthcheck)]).toEqual([name, true]);
    }
  });

  it('starts each service only after what it depends on is healthy or done, and points Zumik at the shared services', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect([name, dependency, dependency in services]).toEqual([name, dependency, true]);
        expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
      }
    }
    for (const role of ['zumik-api', 'zumik-worker']) {
      expect(services[role]!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', ZUMIK_STREAM_BUS: 'redis://redis:6379' });
      expect(services[role]!.environment!.DATABASE_URL).toContain('@postgresql:5432/');
    }
  });
});
