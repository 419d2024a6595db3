-- `bootfarm try`: developers' tokens (scope try; shown once, stored as their
-- SHA-256, like lab tokens), and what each developer uploaded and started,
-- for ownership and the per-developer rate limits (plumbing/db/tryAdmin.ts).
CREATE TABLE IF NOT EXISTS developer_tokens (
  developer text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  scope text NOT NULL DEFAULT 'try' CHECK (scope IN ('try')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS try_uploads (
  id bigserial PRIMARY KEY,
  developer text NOT NULL,
  role text NOT NULL CHECK (role IN ('kernel', 'ramdisk', 'dtb')),
  key text NOT NULL UNIQUE,
  size bigint NOT NULL,
  sha256 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS try_uploads_developer_time ON try_uploads (developer, created_at);

CREATE TABLE IF NOT EXISTS try_runs (
  id bigserial PRIMARY KEY,
  developer text NOT NULL,
  workflow_id text NOT NULL UNIQUE,
  platform text NOT NULL,
  lab text NOT NULL,
  plan text,
  kernel_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS try_runs_developer_time ON try_runs (developer, created_at);
