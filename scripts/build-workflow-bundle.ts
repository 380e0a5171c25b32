/** Build step: bundle workflows/ once into dist/workflow-bundle.js (the worker never bundles at start). */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/project-root';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../src/temporal/tracing';
import { WORKFLOWS_PATH } from '../src/temporal/worker';

/**
 * `tracing`: the bundle the worker runs when tracing is on, with the OpenTelemetry workflow interceptors.
 * The plain bundle has none of their modules: every workflow evaluates its bundle's modules, so tracing
 * that is off costs no workflow anything.
 */
export async function buildWorkflowBundle(outputPath: string, options: { tracing?: boolean } = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH, logger: quietLogger,
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
