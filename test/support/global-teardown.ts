/** Jest global teardown: stop the suite's Temporal dev server and remove its temp dir. */
import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.zumikTestEnvironment?.teardown();
  if (globalThis.zumikTestTempDir) fs.rmSync(globalThis.zumikTestTempDir, { recursive: true, force: true });
}
