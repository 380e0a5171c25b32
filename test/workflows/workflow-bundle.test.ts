import fs from 'node:fs';

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
});
