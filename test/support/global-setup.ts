/**
 * Jest global setup: one Temporal dev server for the whole suite (the existing CLI binary, never a
 * download) and the workflow bundle built once; both handed to test files through the environment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildWorkflowBundle } from '../../scripts/build-workflow-bundle';
import { SearchAttributes } from '../../src/temporal/search-attributes';
import { findTemporalBinary } from '../../src/temporal/temporal-binary';

declare global {
  var zumikTestEnvironment: TestWorkflowEnvironment | undefined;
  var zumikTestTempDir: string | undefined;
}

export default async function globalSetup(): Promise<void> {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-test-'));
  globalThis.zumikTestTempDir = tempDir;
  const binary = findTemporalBinary(process.env.ZUMIK_TEMPORAL_BIN);
  const [environment, bundlePath] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: binary },
        searchAttributes: Object.values(SearchAttributes),
        extraArgs: ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
      },
    }),
    buildWorkflowBundle(path.join(tempDir, 'workflow-bundle.js')),
  ]);
  globalThis.zumikTestEnvironment = environment;
  const address = environment.connection.options.address;
  process.env.ZUMIK_TEST_TEMPORAL_ADDRESS = address;
  process.env.ZUMIK_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.ZUMIK_TEST_TEMPORAL_BIN = binary;
}
