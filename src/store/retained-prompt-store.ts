/**
 * Retained prompts (README "Replay"): written by the front door after a completed answer has gone out,
 * only for tenants whose policy turns `prompt_retention` on (no statement at all otherwise), and read by
 * replays by request id. Expired rows are purged when a replay selects its sample, and by the writes
 * themselves at most every `purgeEveryMs` (ten minutes): a tenant's retention ends on time even when it
 * never replays.
 */
import type { Pool } from 'pg';
import type { RetainedAnswer } from '../domain/retained-prompt';
import { jsonb } from './jsonb';

export interface RetainedPrompt {
  requestId: string;
  tenantId: string;
  alias: string;
  releaseId: string | null;
  request: Record<string, unknown>;
  answer: RetainedAnswer;
  createdAt: number;
  expiresAt: number;
}

/** Which retained prompts a replay draws from. */
export interface RetainedSelection {
  tenantId: string;
  alias: string;
  releaseId?: string;
  /** Epoch ms; absent: from the oldest kept. */
  from?: number;
  /** Epoch ms; absent: up to now. */
  to?: number;
  sampleSize: number;
  /** Seeds the sample's order: the same replay id picks the same requests. */
  seed: string;
}

/** How often the writes sweep expired prompts away (at most). */
export const RETAINED_PROMPT_PURGE_EVERY_MS = 600_000;

export class RetainedPromptStore {
  private lastPurge = 0;

  constructor(private readonly pool: Pool, private readonly options: { purgeEveryMs?: number } = {}) {}

  async keep(prompt: Omit<RetainedPrompt, 'createdAt'>): Promise<void> {
    await this.purgeOccasionally();
    await this.pool.query(
      `INSERT INTO retained_prompts (request_id, tenant_id, alias, release_id, request, answer, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0)) ON CONFLICT (request_id) DO NOTHING`,
      [prompt.requestId, prompt.tenantId, prompt.alias, prompt.releaseId, jsonb(prompt.request), jsonb(prompt.answer), prompt.expiresAt]);
  }

  /** A tenant's retained prompt by request id (expired ones are gone). */
  async find(tenantId: string, requestId: string): Promise<RetainedPrompt | undefined> {
    const result = await this.pool.query<{ request_id: string; tenant_id: string; alias: string; release_id: string | null;
      request: Record<string, unknown>; answer: RetainedAnswer; created_at: Date; expires_at: Date }>(
      'SELECT * FROM retained_prompts WHERE tenant_id = $1 AND request_id = $2 AND expires_at > now()', [tenantId, requestId]);
    const row = result.rows[0];
    return row && {
      requestId: row.request_id, tenantId: row.tenant_id, alias: row.alias, releaseId: row.release_id, request: row.request, answer: row.answer,
      createdAt: row.created_at.getTime(), expiresAt: row.expires_at.getTime(),
    };
  }

  /** Request ids of a sample: unexpired prompts of the selection, in a pseudo-random order seeded by `seed`. */
  async sample(selection: RetainedSelection): Promise<string[]> {
    await this.purgeExpired();
    const result = await this.pool.query<{ request_id: string }>(
      `SELECT request_id FROM retained_prompts
        WHERE tenant_id = $1 AND alias = $2 AND ($3::text IS NULL OR release_id = $3) AND expires_at > now()
          AND ($4::float8 IS NULL OR created_at >= to_timestamp($4 / 1000.0)) AND ($5::float8 IS NULL OR created_at <= to_timestamp($5 / 1000.0))
        ORDER BY md5($6 || request_id) LIMIT $7`,
      [selection.tenantId, selection.alias, selection.releaseId ?? null, selection.from ?? null, selection.to ?? null, selection.seed, selection.sampleSize]);
    return result.rows.map((row) => row.request_id);
  }

  /** How many unexpired prompts the selection holds (up to `limit`): whether a replay would find a sample at all. */
  async count(selection: Omit<RetainedSelection, 'sampleSize' | 'seed'>, limit = 1): Promise<number> {
    const result = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM retained_prompts
        WHERE tenant_id = $1 AND alias = $2 AND ($3::text IS NULL OR release_id = $3) AND expires_at > now()
          AND ($4::float8 IS NULL OR created_at >= to_timestamp($4 / 1000.0)) AND ($5::float8 IS NULL OR created_at <= to_timestamp($5 / 1000.0))
        LIMIT $6) AS found`,
      [selection.tenantId, selection.alias, selection.releaseId ?? null, selection.from ?? null, selection.to ?? null, limit]);
    return Number(result.rows[0]!.n);
  }

  private async purgeOccasionally(): Promise<void> {
    if (Date.now() - this.lastPurge < (this.options.purgeEveryMs ?? RETAINED_PROMPT_PURGE_EVERY_MS)) return;
    this.lastPurge = Date.now();
    await this.purgeExpired().catch(() => undefined);
  }

  /** Delete rows past their retention; returns how many went. */
  async purgeExpired(): Promise<number> {
    const result = await this.pool.query('DELETE FROM retained_prompts WHERE expires_at <= now()');
    return result.rowCount ?? 0;
  }
}
