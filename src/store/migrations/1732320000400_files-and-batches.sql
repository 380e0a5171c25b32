-- Up Migration
-- /v1/files (src/store/file-store.ts). A row is `uploading` while its content streams in (never
-- listed; removed if the upload fails or is abandoned), then `processed`. A stored file's bytes are
-- its file_chunks in seq order; a batch result file (purpose batch_output, batch_id and result_kind
-- set) has no chunks: its content is the batch_results rows of that batch and kind, rendered as
-- OpenAI output lines when it is read, and its bytes and line_count are counted from those rows.
CREATE TABLE files (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL,
  filename     text NOT NULL,
  purpose      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('uploading', 'processed')),
  bytes        bigint NOT NULL DEFAULT 0,
  line_count   integer NOT NULL DEFAULT 0,
  chunk_count  integer NOT NULL DEFAULT 0,
  batch_id     text,
  result_kind  text CHECK (result_kind IN ('output', 'error')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  CHECK ((batch_id IS NULL) = (result_kind IS NULL))
);
CREATE INDEX files_tenant_created ON files (tenant_id, created_at DESC, id DESC);
CREATE INDEX files_uploading ON files (created_at) WHERE status = 'uploading';
CREATE INDEX files_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;
-- One output and one error file per batch, so a retried activity finds the file it made.
CREATE UNIQUE INDEX files_batch_result ON files (batch_id, result_kind) WHERE batch_id IS NOT NULL;

-- The content, in chunks of at most FileStore's chunk size (512 KiB). A line index per chunk:
-- `first_line` is the 0-based index of the first line that begins in the chunk and
-- `first_line_offset` its byte offset there (both NULL when no line begins in the chunk), so a page
-- of lines is read from the one chunk where it begins, without scanning the file.
CREATE TABLE file_chunks (
  file_id            text NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  seq                integer NOT NULL,
  first_line         integer,
  first_line_offset  integer,
  data               bytea NOT NULL,
  PRIMARY KEY (file_id, seq),
  CHECK ((first_line IS NULL) = (first_line_offset IS NULL))
);
CREATE INDEX file_chunks_line ON file_chunks (file_id, first_line) WHERE first_line IS NOT NULL;

-- /v1/batches (src/store/batch-repository.ts): the OpenAI batch object, one timestamp per status.
CREATE TABLE batches (
  id                 text PRIMARY KEY,
  tenant_id          text NOT NULL,
  api_key_id         text,
  endpoint           text NOT NULL,
  input_file_id      text NOT NULL,
  completion_window  text NOT NULL,
  status             text NOT NULL CHECK (status IN ('validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired',
                       'cancelling', 'cancelled')),
  model              text,
  metadata           jsonb,
  total_count        integer NOT NULL DEFAULT 0,
  completed_count    integer NOT NULL DEFAULT 0,
  failed_count       integer NOT NULL DEFAULT 0,
  output_file_id     text,
  error_file_id      text,
  errors             jsonb,
  usage              jsonb,
  workflow_id        text,
  output_expires_after_seconds integer,
  created_at         timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz,
  in_progress_at     timestamptz,
  finalizing_at      timestamptz,
  completed_at       timestamptz,
  failed_at          timestamptz,
  expired_at         timestamptz,
  cancelling_at      timestamptz,
  cancelled_at       timestamptz
);
CREATE INDEX batches_tenant_created ON batches (tenant_id, created_at DESC, id DESC);

-- One result per request line, exactly once per custom_id (the key): a retried or replayed
-- activity's second insert does nothing. `body` is the line's {response, error} as `json` (kept
-- verbatim: key order, and bytes equal to what was counted); `bytes` is the rendered line's length.
CREATE TABLE batch_results (
  batch_id    text NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
  custom_id   text NOT NULL,
  line_index  integer NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('output', 'error')),
  id          text NOT NULL,
  body        json NOT NULL,
  bytes       integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX batch_results_order ON batch_results (batch_id, kind, line_index, custom_id);

-- Down Migration
DROP TABLE batch_results;
DROP TABLE batches;
DROP TABLE file_chunks;
DROP TABLE files;
