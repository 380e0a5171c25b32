/** Build step: bundle workflows/ once into dist/workflow-bundle.js (the worker never bundles at start). */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/project-root';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../src/temporal/tracing';
import { WORKFLOWS_PATH } from '../src/temporal/worker';

/**
 * Modules of workflow code that keep no per-workflow state (the domain's pure functions and tables, the
 * search-attribute keys): the SDK evaluates them once per worker thread, before any workflow, and shares
 * them, deep-frozen, with every workflow (`preloadModules`); every other module of the bundle is evaluated
 * afresh for each workflow. None may import `@temporalio/workflow` or hold state a workflow could see
 * change (test/workflows/workflow-bundle.test.ts checks both, and that the list covers every `src/`
 * module in the bundle). Measured by replaying a stored history 600 times: importing the workflows was
 * about 0.3 ms of each workflow's 7 ms, half of it these modules (bench/README.md).
 */
export const SHARED_WORKFLOW_MODULES = [
  'src/domain/attempt-plan.ts', 'src/domain/attempt-record.ts', 'src/domain/batch-failures.ts', 'src/domain/built-in-providers.ts',
  'src/domain/capabilities.ts', 'src/domain/failure-kinds.ts', 'src/domain/outage-bridge.ts', 'src/domain/outcome.ts',
  'src/domain/reason-codes.ts', 'src/domain/record-failures.ts', 'src/domain/request-decision.ts', 'src/domain/request-outcome.ts',
  'src/domain/retry-decision.ts', 'src/domain/sticky-routing.ts', 'src/temporal/search-attributes.ts',
] as const;

/**
 * `tracing`: the bundle the worker runs when tracing is on, with the OpenTelemetry workflow interceptors.
 * The plain bundle has none of their modules: every workflow evaluates its bundle's modules, so tracing
 * that is off costs no workflow anything.
 */
export async function buildWorkflowBundle(outputPath: string, options: { tracing?: boolean } = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH, logger: quietLogger,
    preloadModules: SHARED_WORKFLOW_MODULES.map((module) => path.join(PROJECT_ROOT, module)),
    ...(options.tracing ? { workflowInterceptorModules: [WORKFLOW_TRACING_INTERCEPTORS] } : {}),
  });
  fs.mkdirSync(path.dirname(outputPath), { recursive: true });
  fs.writeFileSync(outputPath, code);
  return outputPath;
}

const quietLogger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (message: string) => console.warn(message), error: (message: string) => console.error(message),
};

if (require.main === module) {
  const started = Date.now();
  const output = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
  const tracingOutput = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle-tracing.js');
  Promise.all([buildWorkflowBundle(output), buildWorkflowBundle(tracingOutput, { tracing: true })]).then(() => {
    console.log(`workflow bundles: ${path.relative(PROJECT_ROOT, output)}, ${path.relative(PROJECT_ROOT, tracingOutput)} (${Date.now() - started} ms)`);
  }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
