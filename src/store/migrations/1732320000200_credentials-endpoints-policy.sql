-- Up Migration
-- Tenant-owned execution state. Secrets are stored only as SecretBox envelopes (AES-256-GCM under
-- the master key, bound to their row by associated data); `key_id` names the master key that sealed
-- them so a rotation can find what is left to re-seal. `hint` is for display and is never the secret.

-- BYOK: a tenant's own key for a built-in provider (one per tenant and provider).
CREATE TABLE tenant_credentials (
  tenant_id      text NOT NULL REFERENCES tenants(id),
  provider       text NOT NULL CHECK (provider IN ('openai', 'anthropic', 'gemini', 'xai', 'fireworks', 'openrouter')),
  sealed_secret  text NOT NULL,
  key_id         text NOT NULL,
  hint           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, provider)
);
CREATE INDEX tenant_credentials_key_id ON tenant_credentials (key_id);

-- BYOC / subscription: a tenant's OpenAI-compatible endpoint, named by `id` in release targets.
CREATE TABLE byoc_endpoints (
  tenant_id          text NOT NULL REFERENCES tenants(id),
  id                 text NOT NULL,
  profile            text NOT NULL CHECK (profile IN ('byoc_dynamo', 'byoc_epp', 'subscription')),
  base_url           text NOT NULL,
  sealed_api_key     text,
  key_id             text,
  api_key_hint       text,
  metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CHECK ((sealed_api_key IS NULL) = (key_id IS NULL) AND (sealed_api_key IS NULL) = (api_key_hint IS NULL))
);
CREATE INDEX byoc_endpoints_key_id ON byoc_endpoints (key_id) WHERE key_id IS NOT NULL;

-- The tenant's policy as the admin wrote it (defaults are applied when it is read, so they can evolve).
CREATE TABLE tenant_policies (
  tenant_id   text PRIMARY KEY REFERENCES tenants(id),
  policy      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE tenant_policies;
DROP TABLE byoc_endpoints;
DROP TABLE tenant_credentials;
