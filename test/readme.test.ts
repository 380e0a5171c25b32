import fs from 'node:fs';
import path from 'node:path';
import { REASON_CODES, type ReasonCode } from '../src/domain/reason-codes';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../src/domain/payload-ref';
import { DEFAULT_QOS } from '../src/domain/qos';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../src/store/request-repository';
import { PROJECT_ROOT } from '../src/project-root';
import { outcomeError } from '../src/server/outcome-http';
import * as limits from '../src/contract/limits';

const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every reason code with the HTTP status the front door really answers', () => {
    const rows = new Map([...readme.matchAll(/^\| `(\w+)` \| (.+) \| (.+) \|$/gm)].map((match) => [match[1], match[3]!.trim()]));
    for (const code of Object.keys(REASON_CODES) as ReasonCode[]) {
      expect(rows.has(code)).toBe(true);
      if (code.startsWith('ok') || code === 'stream_interrupted') continue;
      const status = outcomeError({ id: 'x', reason_code: code, attempts: [], admission: 'admitted' } as never).status;
      expect([code, rows.get(code)]).toEqual([code, String(status)]);
    }
  });

  it('states the QoS defaults the code uses', () => {
    const seconds = (ms: number) => (ms >= 3_600_000 ? `${ms / 3_600_000} h` : ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`);
    for (const [name, profile] of Object.entries(DEFAULT_QOS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row).toBeDefined();
      const cells = row!.split('|').slice(2, 8).map((cell) => cell.trim());
      expect(cells).toEqual([profile.deadlineMs, profile.maxQueueWaitMs, profile.ttftTargetMs, profile.totalTargetMs,
        profile.firstTokenTimeoutMs, profile.stallTimeoutMs].map(seconds));
    }
  });

  it('states the Idempotency-Key lifetime and the claim-check threshold the code uses', () => {
    expect(readme).toContain(`- **Lifetime**: ${IDEMPOTENCY_KEY_TTL_HOURS} hours from the first use.`);
    expect(readme).toContain(`A chat body larger than ${PAYLOAD_REF_THRESHOLD_BYTES / 1024} KB (as JSON)`);
  });

  it('states the limits the code enforces (the Limits table)', () => {
    const row = (what: string) => readme.split('\n').find((line) => line.startsWith(`| ${what} |`)) ?? '';
    const mib = (bytes: number) => `${bytes / 1024 / 1024} MiB`;
    expect(row('JSON request body')).toContain(mib(limits.REQUEST_BODY_MAX_BYTES));
    expect(limits.REQUEST_BODY_LIMIT_SETTING).toBe(`${limits.REQUEST_BODY_MAX_BYTES / 1024 / 1024}mb`);
    expect(row('`model`')).toContain(`${limits.MODEL_MAX_LENGTH} characters`);
    expect(row('JSON nesting')).toContain(`${limits.JSON_MAX_DEPTH} levels`);
    expect(row('`/v1/files` upload')).toContain(mib(limits.UPLOAD_MAX_BYTES));
    expect(row('batch line `custom_id`')).toContain(`${limits.CUSTOM_ID_MAX_LENGTH} characters`);
    expect(row('upload filename')).toContain(`${limits.FILENAME_MAX_LENGTH} characters`);
    expect(row('provider answer (JSON)')).toContain(mib(limits.UPSTREAM_RESPONSE_MAX_BYTES));
    expect(row('provider stream')).toContain(`${mib(limits.UPSTREAM_STREAM_MAX_BYTES)} in all, ${mib(limits.UPSTREAM_EVENT_MAX_BYTES)} per event`);
  });
});
