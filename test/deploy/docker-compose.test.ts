import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, PROVIDER_NAMES } from '../../src/config';
import { PROJECT_ROOT } from '../../src/project-root';
import { composeSubsetSchema } from './compose-schema';

const COMPOSE_PATH = path.join(PROJECT_ROOT, 'docker-compose.yml');

/** `docker compose` is usable when the client has its compose plugin (it needs no daemon for `config`). */
function composeClient(): boolean {
  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** The variable names of the README's configuration table, `<PROVIDER>_…` rows expanded. */
function readmeVariables(): Set<string> {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const table = readme.split('## Configuration')[1]!.split('\n## ')[0]!;
  const names = new Set<string>();
  for (const row of table.split('\n').filter((line) => line.startsWith('| `'))) {
    for (const [, name] of row.split(' | ')[0]!.matchAll(/`([A-Z_<>]+)`/g)) {
      if (name!.startsWith('<PROVIDER>')) for (const provider of PROVIDER_NAMES) names.add(name!.replace('<PROVIDER>', provider.toUpperCase()));
      else names.add(name!);
    }
  }
  return names;
}

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

  it('is a valid Compose file: `docker compose config` accepts it where the client has compose, and it matches the Compose schema', () => {
    if (composeClient()) {
      const result = spawnSync('docker', ['compose', '-f', COMPOSE_PATH, 'config', '--quiet'], {
        encoding: 'utf8', env: { ...process.env, ZUMIK_ADMIN_KEY: 'zk_compose_check_0123456789', ZUMIK_MASTER_KEY: 'A'.repeat(43) },
      });
      expect([result.status, result.stderr]).toEqual([0, '']);
    }
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(composeSubsetSchema);
    const valid = validate(parse(fs.readFileSync(COMPOSE_PATH, 'utf8'), { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('uses only well-formed interpolations (${NAME}, ${NAME:-default}, ${NAME:?message}, $$ for a literal $)', () => {
    const text = fs.readFileSync(COMPOSE_PATH, 'utf8').split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
    const leftovers = text.replace(/\$\$/g, '').replace(/\$\{[A-Z_][A-Z0-9_]*(?:(?::?[-?])[^}]*)?\}/g, '');
    expect(leftovers.match(/\$\S*/g) ?? []).toEqual([]);
  });

  it("gives Zumik's roles only variables Zumik reads and the README's configuration table documents", () => {
    const documented = readmeVariables();
    for (const role of ['zumik-api', 'zumik-worker']) {
      for (const name of Object.keys(services[role]!.environment!)) {
        expect([role, name, CONFIG_VARIABLES.includes(name), documented.has(name)]).toEqual([role, name, true, true]);
      }
    }
  });

  it("documents in the README's configuration table only variables Zumik reads", () => {
    const documented = [...readmeVariables()];
    expect(documented.length).toBeGreaterThan(20);
    expect(documented.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

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
