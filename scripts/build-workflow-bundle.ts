/** Build step: bundle workflows/ once into dist/workflow-bundle.js (the worker never bundles at start). */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/project-root';
import { WORKFLOWS_PATH } from '../src/temporal/worker';

export async function buildWorkflowBundle(outputPath: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
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
  buildWorkflowBundle(output).then(() => {
    console.log(`workflow bundle: ${path.relative(PROJECT_ROOT, output)} (${Date.now() - started} ms)`);
  }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
