/**
 * Capability manifest revisions in Postgres (issue 10). Revisions are immutable, so each process
 * keeps every revision it has read, forever: after the first use of a revision, the request path
 * reads it from memory (`manifestFor`) with no SQL. The built-in manifest is the first revision
 * (`cap_custom`), seeded from code; the newest revision is "the current one". A revision the store
 * lacks (releases older than this validation named free text) is served the built-in manifest.
 */
import type { Pool } from 'pg';
import { BUILT_IN_MANIFEST_REVISION, builtInManifest, isManifestLoaded, manifestFor, registerManifest, type CapabilityManifest } from '../domain/capabilities';
import { capabilityFromJson, capabilityToJson, type InstallManifestInput, type ManifestModelJson } from '../domain/capability-manifest';
import { newManifestRevision } from '../ids';

interface ManifestRow { revision: string; models: Record<string, ManifestModelJson>; created_at: Date }

export interface StoredManifest { manifest: CapabilityManifest; createdAt: number }

const toStored = (row: ManifestRow): StoredManifest => ({
  manifest: {
    revision: row.revision,
    models: Object.fromEntries(Object.entries(row.models).map(([key, json]) => [key, capabilityFromJson(json)])),
  },
  createdAt: Math.floor(row.created_at.getTime() / 1000),
});

export class CapabilityManifestRepository {
  private seeded: Promise<void> | undefined;

  constructor(private readonly pool: Pool) {}

  /** Store the built-in manifest as `cap_custom` once (idempotent; every process may call it). */
  seedBuiltIn(): Promise<void> {
    return (this.seeded ??= (async () => {
      const models = Object.fromEntries(Object.entries(builtInManifest().models).map(([key, capability]) => [key, capabilityToJson(capability)]));
      await this.pool.query('INSERT INTO capability_manifests (revision, models) VALUES ($1, $2) ON CONFLICT (revision) DO NOTHING',
        [BUILT_IN_MANIFEST_REVISION, JSON.stringify(models)]);
    })().catch((error: unknown) => { this.seeded = undefined; throw error; }));
  }

  async list(): Promise<StoredManifest[]> {
    await this.seedBuiltIn();
    const result = await this.pool.query<ManifestRow>('SELECT revision, models, created_at FROM capability_manifests ORDER BY seq');
    return result.rows.map(toStored);
  }

  async find(revision: string): Promise<StoredManifest | undefined> {
    await this.seedBuiltIn();
    const result = await this.pool.query<ManifestRow>('SELECT revision, models, created_at FROM capability_manifests WHERE revision = $1', [revision]);
    const stored = result.rows[0] && toStored(result.rows[0]);
    if (stored && stored.manifest.revision !== BUILT_IN_MANIFEST_REVISION) registerManifest(stored.manifest);
    return stored;
  }

  /** The newest revision's id: what a release that names none is validated against and records. */
  async currentRevision(): Promise<string> {
    await this.seedBuiltIn();
    const result = await this.pool.query<{ revision: string }>('SELECT revision FROM capability_manifests ORDER BY seq DESC LIMIT 1');
    return result.rows[0]?.revision ?? BUILT_IN_MANIFEST_REVISION;
  }

  /**
   * The manifest of a revision for the request path: from memory after its first use in this process
   * (revisions never change), else read once. An unknown revision answers the built-in manifest.
   */
  async load(revision: string): Promise<CapabilityManifest> {
    // A revision the store lacks (a release installed before revisions were validated) is remembered as the built-in one.
    if (!isManifestLoaded(revision) && !await this.find(revision)) registerManifest(builtInManifest(), revision);
    return manifestFor(revision);
  }

  async install(input: InstallManifestInput): Promise<StoredManifest> {
    await this.seedBuiltIn();
    const result = await this.pool.query<ManifestRow>(
      'INSERT INTO capability_manifests (revision, models) VALUES ($1, $2) RETURNING revision, models, created_at',
      [newManifestRevision(), JSON.stringify(input.models)]);
    const stored = toStored(result.rows[0]!);
    registerManifest(stored.manifest);
    return stored;
  }
}
