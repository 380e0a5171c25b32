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
  // 7–16: dependencies run one way, to the ground (server → workflows, activities → providers, store → domain → contract).
  { file: 'src/contract/h.ts', code: "import type { ReasonCode } from '../domain/reason-codes';\nexport type Used = ReasonCode;\n" },
  { file: 'src/contract/i.ts', code: "import { Pool } from 'pg';\nexport const used = Pool;\n" },
  { file: 'src/contract/j.ts', code: "import { z } from 'zod';\nimport type { ChatRequest } from './chat';\nexport const used = z.string();\nexport type Used = ChatRequest;\n" },
  { file: 'src/domain/k.ts', code: "import { ProviderError } from '../providers/provider-error';\nexport const used = ProviderError;\n" },
  { file: 'src/domain/l.ts', code: "import type { ChatRequest } from '../contract/chat';\nexport type Used = ChatRequest;\n" },
  { file: 'src/store/m.ts', code: "import { badRequest } from '../server/errors';\nexport const used = badRequest;\n" },
  { file: 'src/providers/n.ts', code: "import { CredentialRepository } from '../store/credential-repository';\nexport const used = CredentialRepository;\n" },
  { file: 'src/server/o.ts', code: "import { createActivities } from '../../activities';\nexport const used = createActivities;\n" },
  { file: 'src/server/p.ts', code: "import { ProviderDirectory } from '../providers/provider-directory';\nexport const used = ProviderDirectory;\n" },
  { file: 'activities/q.ts', code: "import { badRequest } from '../src/server/errors';\nexport const used = badRequest;\n" },
  // 17–18: metrics and the demo sit beside the store: below the server and the activities.
  { file: 'src/metrics/r.ts', code: "import { badRequest } from '../server/errors';\nexport const used = badRequest;\n" },
  { file: 'src/demo/s.ts', code: "import { createActivities } from '../../activities';\nexport const used = createActivities;\n" },
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

  it('keeps src/contract the ground floor: zod and its own files only', () => {
    expect(messages[7]).toEqual([expect.stringContaining('ground floor')]);
    expect(messages[8]).toEqual([expect.stringContaining('ground floor')]);
    expect(messages[9]).toEqual([]);
  });

  it('lets src/domain import only src/contract', () => {
    expect(messages[10]).toEqual([expect.stringContaining('imports only src/contract')]);
    expect(messages[11]).toEqual([]);
  });

  it('keeps the store below the server, providers away from the store, and the server away from activities and providers', () => {
    expect(messages[12]).toEqual([expect.stringContaining('sit below the server')]);
    expect(messages[13]).toEqual([expect.stringContaining('reach no store')]);
    expect(messages[14]).toEqual([expect.stringContaining('never activities, providers')]);
    expect(messages[15]).toEqual([expect.stringContaining('never activities, providers')]);
    expect(messages[16]).toEqual([expect.stringContaining('below the server')]);
  });

  it('keeps src/metrics and src/demo below the server and the activities', () => {
    expect(messages[17]).toEqual([expect.stringContaining('sit below the server')]);
    expect(messages[18]).toEqual([expect.stringContaining('sit below the server')]);
  });
});
