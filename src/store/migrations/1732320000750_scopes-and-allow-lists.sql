-- Up Migration
-- Scopes per tenant (issue 17). `operator` is the deployment-wide role (every tenant, through
-- `?tenant=`); `admin` now administers its own tenant only. The bootstrap admin key becomes the operator,
-- so an existing deployment keeps one key that reaches everything.
UPDATE api_keys SET scopes = array_append(scopes, 'operator')
  WHERE name LIKE 'bootstrap admin%' AND NOT ('operator' = ANY(scopes));

-- Per-key allow-lists (NULL: no restriction beyond the tenant's policy), read with the key on authentication.
ALTER TABLE api_keys ADD COLUMN allowed_aliases text[], ADD COLUMN allowed_providers text[];

-- Aliases owned by a tenant (NULL: shared, installed by the operator for every tenant). A tenant's own
-- release of an alias shadows a shared one of the same name, for that tenant only.
ALTER TABLE model_alias_releases ADD COLUMN tenant_id text REFERENCES tenants(id);
DROP INDEX model_alias_releases_one_active;
CREATE UNIQUE INDEX model_alias_releases_one_active ON model_alias_releases (coalesce(tenant_id, ''), alias) WHERE status = 'active';
DROP INDEX model_alias_releases_history;
CREATE INDEX model_alias_releases_history ON model_alias_releases (alias, tenant_id, seq DESC);

-- Down Migration
DROP INDEX model_alias_releases_history;
CREATE INDEX model_alias_releases_history ON model_alias_releases (alias, seq DESC);
DROP INDEX model_alias_releases_one_active;
DELETE FROM model_alias_releases WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX model_alias_releases_one_active ON model_alias_releases (alias) WHERE status = 'active';
ALTER TABLE model_alias_releases DROP COLUMN tenant_id;
ALTER TABLE api_keys DROP COLUMN allowed_providers, DROP COLUMN allowed_aliases;
UPDATE api_keys SET scopes = array_remove(scopes, 'operator');
