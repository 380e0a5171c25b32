/**
 * A real earlier build of the workflow code: the sources of `commit` (workflows/, src/, activities/)
 * taken from git and bundled with the same bundler as `npm run build`, into `outputPath`. What an
 * "old worker" of a rolling deploy runs (ZUMIK_WORKFLOW_BUNDLE), beside today's activities.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../src/project-root';

export async function bundleWorkflowsAt(commit: string, outputPath: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zumik-workflows-${commit.slice(0, 8)}-`));
  try {
    const archive = path.join(dir, 'sources.tar');
    execFileSync('git', ['-C', PROJECT_ROOT, 'archive', '--format=tar', '-o', archive, commit, 'workflows', 'src', 'activities', 'package.json']);
    execFileSync('tar', ['-xf', archive, '-C', dir]);
    fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(dir, 'workflows', 'index.ts'),
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (message) => console.error(message) },
    });
    fs.mkdirSync(path.dirname(outputPath), { recursive: true });
    fs.writeFileSync(outputPath, code);
    return outputPath;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
