import fs from 'node:fs';
import path from 'node:path';
import { SHARED_WORKFLOW_MODULES } from '../../scripts/build-workflow-bundle';
import { PROJECT_ROOT } from '../../src/project-root';

// The TS SDK evaluates a workflow's module graph for every workflow it runs: what the workflow code
// imports is paid on every request (schemas built at load cost the workflow thread 10+ ms each time).
// Measured: zod pulled in through one constant (sticky routing's defaults, from the release schema's
// file) took the workflow thread from about 7 to 20 ms per request (bench run 2026-12-04T10-51-43-229Z).
describe('the workflow bundle', () => {
  const bundle = fs.readFileSync(process.env.ZUMIK_TEST_WORKFLOW_BUNDLE!, 'utf8');

  it('holds no schema library: zod never enters workflow code', () => {
    expect(bundle).not.toMatch(/node_modules\/zod\//);
  });

  it('holds none of the I/O-side modules (store, server, providers, activities)', () => {
    expect(bundle).not.toMatch(/src\/(store|server|providers|streaming|secrets)\//);
    expect(bundle).not.toMatch(/\bactivities\/(?!index)[a-z-]+\.ts/);
  });

  it('evaluates every src/ module of workflow code once per thread (preloaded), not once per workflow', () => {
    const inBundle = [...bundle.matchAll(/^\/\*{3}\/ "\.\/(src\/[^"]+)"/gm)].map((match) => match[1]).sort();
    expect(inBundle).toEqual([...SHARED_WORKFLOW_MODULES].sort());
    // The entry point requires them before any workflow exists (the SDK's preloadModules).
    const preload = bundle.slice(bundle.indexOf('function preloadModules()'), bundle.indexOf('function importWorkflows()'));
    for (const module of SHARED_WORKFLOW_MODULES) expect(preload).toContain(module.replace(/^src\//, ''));
  });

  it('shares only modules that keep no per-workflow state: none imports the workflow API or exports a mutable binding', () => {
    for (const module of SHARED_WORKFLOW_MODULES) {
      const source = fs.readFileSync(path.join(PROJECT_ROOT, module), 'utf8');
      expect({ module, workflowApi: /from '@temporalio\/workflow'/.test(source) }).toEqual({ module, workflowApi: false });
      expect({ module, mutableExport: /^export let /m.test(source) }).toEqual({ module, mutableExport: false });
    }
  });
});
