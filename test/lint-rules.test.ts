import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../src/project-root';

const cases: Array<{ file: string; code: string }> = [
  { file: 'workflows/a.ts', code: "import fs from 'node:fs';\nexport const used = fs;\n" },
  { file: 'workflows/b.ts', code: "import { request } from 'undici';\nexport const used = request;\n" },
  { file: 'workflows/c.ts', code: "import { Pool } from 'pg';\nexport const used = Pool;\n" },
  { file: 'workflows/d.ts', code: "import { ModelAliasRepository } from '../src/store/model-alias-repository';\nexport const used = ModelAliasRepository;\n" },
  { file: 'workflows/e.ts', code: "import type { Activities } from '../activities';\nimport { proxyActivities } from '@temporalio/workflow';\n"
    + 'export const a = proxyActivities<Activities>({ startToCloseTimeout: 1000 });\n' },
  { file: 'src/domain/f.ts', code: "import http from 'node:http';\nexport const used = http;\n" },
  { file: 'activities/g.ts', code: "import http from 'node:http';\nexport const used = http;\n" },
];

// Runs the real ESLint with the project's config in a plain node process (the flat config is ESM,
// which jest's module VM cannot import), once for all cases.
function lintAll(): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = [];
      for (const c of cases) {
        const [result] = await eslint.lintText(c.code, { filePath: require('path').join(process.cwd(), c.file) });
        out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  const result = spawnSync(process.execPath, ['-e', script, JSON.stringify(cases)], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as string[][];
}

describe('lint rules', () => {
  let messages: string[][];
  beforeAll(() => { messages = lintAll(); }, 60_000);

  it('keeps workflows/ free of Node built-ins and I/O libraries', () => {
    expect(messages[0]).toEqual([expect.stringContaining('no Node built-ins')]);
    expect(messages[1]).toEqual([expect.stringContaining('must not do I/O')]);
    expect(messages[2]).toEqual([expect.stringContaining('must not do I/O')]);
  });

  it('keeps workflows/ from importing I/O modules of our own (store, server, providers)', () => {
    expect(messages[3]).toEqual([expect.stringContaining('activity types only')]);
  });

  it('lets workflows import activity types and the workflow SDK', () => {
    expect(messages[4]).toEqual([]);
  });

  it('applies the same rule to src/domain, but not to activities/', () => {
    expect(messages[5]).toHaveLength(1);
    expect(messages[6]).toEqual([]);
  });
});
