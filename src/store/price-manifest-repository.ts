/**
 * Price manifest revisions in Postgres (issue 14). Revisions are immutable: each process keeps every
 * revision it has read. "The current revision" (the newest) is cached per process and forgotten when
 * any process installs one (`prices` on the zumik_config feed), else after 5 s: what an outcome is
 * costed with, and recorded with, at the moment it is costed.
 */
import type { Pool } from 'pg';
import { BUILT_IN_PRICE_REVISION, builtInPrices, type ModelPriceJson, type PriceManifest } from '../domain/price-manifest';
import { newPriceRevision } from '../ids';
import { TtlCache } from './ttl-cache';

interface PriceRow { revision: string; models: Record<string, ModelPriceJson>; created_at: Date }

export interface StoredPrices { prices: PriceManifest; createdAt: number }

const toStored = (row: PriceRow): StoredPrices => ({
  prices: { revision: row.revision, models: row.models }, createdAt: Math.floor(row.created_at.getTime() / 1000),
});

export class PriceManifestRepository {
  private seeded: Promise<void> | undefined;
  private readonly revisions = new Map<string, PriceManifest>([[BUILT_IN_PRICE_REVISION, builtInPrices()]]);
  private readonly currentCache = new TtlCache<'current', PriceManifest>(5_000, 1);

  constructor(private readonly pool: Pool) {}

  /** Store the built-in prices as `price_builtin` once (idempotent; every process may call it). */
  seedBuiltIn(): Promise<void> {
    return (this.seeded ??= (async () => {
      await this.pool.query('INSERT INTO price_manifests (revision, models) VALUES ($1, $2) ON CONFLICT (revision) DO NOTHING',
        [BUILT_IN_PRICE_REVISION, JSON.stringify(builtInPrices().models)]);
    })().catch((error: unknown) => { this.seeded = undefined; throw error; }));
  }

  /** The newest revision, from memory for up to 5 s (the feed forgets it at once when one is installed). */
  current(): Promise<PriceManifest> {
    return this.currentCache.get('current', async () => {
      await this.seedBuiltIn();
      const result = await this.pool.query<{ revision: string }>('SELECT revision FROM price_manifests ORDER BY seq DESC LIMIT 1');
      const revision = result.rows[0]?.revision ?? BUILT_IN_PRICE_REVISION;
      return (await this.load(revision)) ?? builtInPrices();
    });
  }

  /** A revision by id (immutable: read once per process). */
  async load(revision: string): Promise<PriceManifest | undefined> {
    const known = this.revisions.get(revision);
    if (known) return known;
    const stored = await this.find(revision);
    return stored?.prices;
  }

  async find(revision: string): Promise<StoredPrices | undefined> {
    await this.seedBuiltIn();
    const result = await this.pool.query<PriceRow>('SELECT revision, models, created_at FROM price_manifests WHERE revision = $1', [revision]);
    const stored = result.rows[0] && toStored(result.rows[0]);
    if (stored) this.revisions.set(stored.prices.revision, stored.prices);
    return stored;
  }

  /** Every revision's id and time, oldest first. */
  async list(): Promise<Array<{ revision: string; createdAt: number; models: number }>> {
    await this.seedBuiltIn();
    const result = await this.pool.query<{ revision: string; created_at: Date; models: string }>(
      'SELECT revision, created_at, (SELECT count(*) FROM jsonb_object_keys(models)) AS models FROM price_manifests ORDER BY seq');
    return result.rows.map((row) => ({ revision: row.revision, createdAt: Math.floor(row.created_at.getTime() / 1000), models: Number(row.models) }));
  }

  /** The newest stored revision, read now (the API answers what is current, not a cached view). */
  async currentStored(): Promise<StoredPrices> {
    await this.seedBuiltIn();
    const result = await this.pool.query<PriceRow>('SELECT revision, models, created_at FROM price_manifests ORDER BY seq DESC LIMIT 1');
    return toStored(result.rows[0]!);
  }

  /** Install a new revision: it is the current one from now on (every process hears it on the feed). */
  async install(models: Record<string, ModelPriceJson>): Promise<StoredPrices> {
    await this.seedBuiltIn();
    const result = await this.pool.query<PriceRow>(
      'INSERT INTO price_manifests (revision, models) VALUES ($1, $2) RETURNING revision, models, created_at', [newPriceRevision(), JSON.stringify(models)]);
    const stored = toStored(result.rows[0]!);
    this.revisions.set(stored.prices.revision, stored.prices);
    this.currentCache.invalidate();
    return stored;
  }

  /** The current revision changed (the feed said so). */
  invalidate(): void {
    this.currentCache.invalidate();
  }
}
