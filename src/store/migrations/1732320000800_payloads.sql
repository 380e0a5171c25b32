-- Up Migration
-- Claim check (issue 17): a chat body or an answer above the threshold (src/domain/payload-ref.ts) is kept
-- here and workflow history carries {ref, bytes, sha256}. The bytes are the payload's UTF-8 JSON exactly
-- as it was hashed (bytea, not jsonb: jsonb would reorder keys and refuse NUL). Rows expire with the
-- request that needs them (its deadline plus a day); expired rows are purged as new ones are written.
CREATE TABLE payloads (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL,
  bytes        integer NOT NULL,
  sha256       text NOT NULL,
  data         bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX payloads_expiry ON payloads (expires_at);

-- Down Migration
DROP TABLE payloads;
