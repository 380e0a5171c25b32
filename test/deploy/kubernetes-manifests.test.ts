import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';
import { PROJECT_ROOT } from '../../src/project-root';

const BASE = path.join(PROJECT_ROOT, 'deploy', 'k8s', 'base');
/** The worker's own bound past the grace before it stops waiting for its activities (src/temporal/worker.ts shutdownForceTime). */
const WORKER_FORCE_MS = 15_000;
/** Room between Zumik's own bounds and Kubernetes' SIGKILL. */
const MARGIN_MS = 5_000;

interface K8sObject { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any }

/** `kustomize` from ZUMIK_KUSTOMIZE_BIN, the tool dir (scripts/install-kustomize.js) or PATH; undefined when none runs. */
function findKustomize(): string | undefined {
  const candidates = [process.env.ZUMIK_KUSTOMIZE_BIN, path.join(PROJECT_ROOT, '.tools', 'bin', 'kustomize'), 'kustomize'].filter((candidate): candidate is string => !!candidate);
  return candidates.find((candidate) => spawnSync(candidate, ['version'], { encoding: 'utf8' }).status === 0);
}

/** Validate objects against the Kubernetes OpenAPI schemas (kubernetes-models, offline) in an ESM child process. */
function schemaCheck(objects: unknown[]): Array<{ kind: string; name: string | null; error: string | null }> {
  const result = spawnSync(process.execPath, [path.join(__dirname, 'validate-kubernetes.mjs')], {
    cwd: PROJECT_ROOT, input: JSON.stringify(objects), encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`validate-kubernetes.mjs failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

// The Kustomize base in deploy/k8s/base, read as Kustomize would (its resources, its image), every object
// checked against Kubernetes' own schemas, and against what Zumik needs: the README's env names, the
// probes on the health endpoints, termination grace above Zumik's drain bounds, selectors that match.
describe('Kubernetes manifests (deploy/k8s/base)', () => {
  const kustomization = parse(fs.readFileSync(path.join(BASE, 'kustomization.yaml'), 'utf8')) as {
    resources: string[]; images: Array<{ name: string; newName: string; newTag: string }>; labels: Array<{ pairs: Record<string, string> }>;
  };
  const resources: K8sObject[] = kustomization.resources.flatMap((file) =>
    parseAllDocuments(fs.readFileSync(path.join(BASE, file), 'utf8')).map((document) => document.toJS() as K8sObject));
  // What `kubectl apply -k` would send: `kustomize build` where it is installed (CI builds it: scripts/install-kustomize.js).
  const kustomize = findKustomize();
  const rendered: K8sObject[] | undefined = kustomize === undefined ? undefined : parseAllDocuments(
    execFileSync(kustomize, ['build', BASE], { encoding: 'utf8' })).map((document) => document.toJS() as K8sObject);
  const objects = rendered ?? resources;
  const byKind = (kind: string) => objects.filter((object) => object.kind === kind);
  const configMap = byKind('ConfigMap')[0]!;
  const secret = byKind('Secret')[0]!;
  const deployments = byKind('Deployment');
  const podLabels = (deployment: K8sObject) => deployment.spec.template.metadata.labels as Record<string, string>;
  const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);

  it('renders with kustomize build (required in CI): every resource, with its common labels and the image set', () => {
    if (process.env.CI === 'true') expect(kustomize).toBeDefined();
    const image = kustomization.images[0]!;
    const expected = rendered ? `${image.newName}:${image.newTag}` : image.name;
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort())
      .toEqual(resources.map((object) => `${object.kind}/${object.metadata.name}`).sort());
    if (rendered) for (const object of rendered) expect(object.metadata.labels).toMatchObject(kustomization.labels[0]!.pairs);
    for (const deployment of objects.filter((object) => object.kind === 'Deployment')) expect(deployment.spec.template.spec.containers[0].image).toBe(expected);
  });

  it('lists every manifest of the folder as a resource', () => {
    const files = fs.readdirSync(BASE).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort();
    expect([...kustomization.resources].sort()).toEqual(files);
  });

  it('passes the Kubernetes API schemas, which do catch a malformed object', () => {
    expect(schemaCheck(objects).filter((result) => result.error !== null)).toEqual([]);
    const broken = structuredClone(deployments[0]!);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    delete broken.spec.selector;
    const [checked] = schemaCheck([broken]);
    expect(checked!.error).toMatch(/containerPort must be integer/);
    expect(checked!.error).toMatch(/selector/);
  });

  it('configures Zumik only with the variables it reads, secrets in the Secret and the rest in the ConfigMap', () => {
    const names = [...Object.keys(configMap.data), ...Object.keys(secret.stringData)];
    expect(names.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    const secretNames = ['DATABASE_URL', 'ZUMIK_ADMIN_KEY', 'ZUMIK_MASTER_KEY', ...CONFIG_VARIABLES.filter((name) => name.endsWith('_API_KEY'))];
    expect(Object.keys(secret.stringData).sort()).toEqual([...new Set(secretNames)].sort());
    expect(Object.keys(configMap.data).filter((name) => secretNames.includes(name))).toEqual([]);
    // Separate roles need the shared bus and an external Temporal; pods listen beyond loopback for their probes.
    expect(configMap.data).toMatchObject({ HOST: '0.0.0.0', ZUMIK_STREAM_BUS: expect.stringMatching(/^redis:\/\//), TEMPORAL_ADDRESS: expect.stringMatching(/:7233$/) });
  });

  it('runs an API and a worker Deployment of the one image, each with both env sources, probes on the health endpoints and resources', () => {
    expect(deployments.map((deployment) => deployment.spec.template.spec.containers[0].args)).toEqual([['--role', 'api'], ['--role', 'worker']]);
    for (const deployment of deployments) {
      expect(matches(deployment.spec.selector.matchLabels, podLabels(deployment))).toBe(true);
      const [container] = deployment.spec.template.spec.containers;
      expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
      const port = container.ports.find((entry: { name: string }) => entry.name === 'http');
      expect(port.containerPort).toBe(Number(configMap.data.PORT));
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      expect(container.resources.limits.memory).toBeDefined();
      // A rolling update starts the new pod before it stops an old one.
      expect(deployment.spec.strategy.rollingUpdate).toMatchObject({ maxUnavailable: 0 });
    }
  });

  it('gives each pod a termination grace above its drain: not-ready delay plus shutdown grace (plus the worker\'s force bound)', () => {
    const drainMs = Number(configMap.data.ZUMIK_SHUTDOWN_DELAY_MS) + Number(configMap.data.ZUMIK_SHUTDOWN_GRACE_MS);
    const [api, worker] = deployments;
    expect(api!.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(drainMs + MARGIN_MS);
    expect(worker!.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(drainMs + WORKER_FORCE_MS + MARGIN_MS);
    // The readiness probe sees the 503 within the not-ready delay, so the endpoint is gone before the door closes.
    const probe = api!.spec.template.spec.containers[0].readinessProbe;
    expect(probe.periodSeconds * probe.failureThreshold * 1000).toBeLessThan(Number(configMap.data.ZUMIK_SHUTDOWN_DELAY_MS));
  });

  it('routes the Service to the API pods only, and keeps one pod of each role through voluntary disruptions', () => {
    const [service] = byKind('Service');
    const [api, worker] = deployments;
    expect(matches(service!.spec.selector, podLabels(api!))).toBe(true);
    expect(matches(service!.spec.selector, podLabels(worker!))).toBe(false);
    expect(service!.spec.ports[0].targetPort).toBe('http');
    const budgets = byKind('PodDisruptionBudget');
    expect(budgets).toHaveLength(2);
    for (const deployment of deployments) {
      const budget = budgets.find((candidate) => matches(candidate.spec.selector.matchLabels, podLabels(deployment)));
      expect(budget).toBeDefined();
      expect(budget!.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    }
  });
});
