import fs from 'node:fs';
import path from 'node:path';
import { REASON_CODES, type ReasonCode } from '../src/domain/reason-codes';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../src/domain/payload-ref';
import { DEFAULT_QOS } from '../src/domain/qos';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../src/store/request-repository';
import { PROJECT_ROOT } from '../src/project-root';
import { outcomeError } from '../src/server/outcome-http';

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
});
