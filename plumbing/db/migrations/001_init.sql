-- Bootfarm results database, first version.
-- Every result row has a natural key from its identity (tree, sha, config,
-- platform, lab …) so a retried activity or a replayed workflow upserts the
-- same row instead of adding one.

CREATE TABLE trees (
  name        text PRIMARY KEY,
  url         text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE revisions (
  id            bigserial PRIMARY KEY,
  tree          text NOT NULL,
  branch        text NOT NULL,
  sha           text NOT NULL,
  describe      text NOT NULL DEFAULT '',
  subject       text NOT NULL DEFAULT '',
  author        text NOT NULL DEFAULT '',
  author_email  text NOT NULL DEFAULT '',
  committed_at  timestamptz,
  status        text NOT NULL DEFAULT 'running',   -- running | done | error
  result        text,                              -- pass | fail | infra-error
  summary       jsonb,
  message       text,
  workflow_id   text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  UNIQUE (tree, branch, sha)
);
CREATE INDEX revisions_branch_started ON revisions (tree, branch, started_at DESC);
CREATE INDEX revisions_started ON revisions (started_at DESC);

CREATE TABLE builds (
  id           bigserial PRIMARY KEY,
  tree         text NOT NULL,
  sha          text NOT NULL,
  config       text NOT NULL,
  arch         text NOT NULL,
  defconfig    text NOT NULL,
  toolchain    text NOT NULL DEFAULT 'gcc',
  status       text NOT NULL DEFAULT 'running',   -- running | pass | fail | infra-error
  warnings     integer NOT NULL DEFAULT 0,
  errors       integer NOT NULL DEFAULT 0,
  duration_ms  integer,
  log_key      text,
  artifacts    jsonb NOT NULL DEFAULT '{}',
  error_lines  jsonb NOT NULL DEFAULT '[]',
  message      text,
  builder      text,
  workflow_id  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  UNIQUE (tree, sha, config)
);
CREATE INDEX builds_created ON builds (created_at DESC);
CREATE INDEX builds_status_created ON builds (status, created_at DESC);

CREATE TABLE platforms (
  name         text PRIMARY KEY,
  arch         text NOT NULL,
  soc          text NOT NULL DEFAULT '',
  dtb          text,
  boot_method  text NOT NULL DEFAULT 'qemu'
);

CREATE TABLE labs (
  name            text PRIMARY KEY,
  adapter         text NOT NULL,
  platforms       jsonb NOT NULL DEFAULT '[]',   -- [{name, capacity}]
  token_hash      text,
  health          text NOT NULL DEFAULT 'unknown', -- online | offline | unknown
  last_poll_at    timestamptz,
  last_result_at  timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boots (
  id           bigserial PRIMARY KEY,
  build_id     bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  tree         text NOT NULL,
  sha          text NOT NULL,
  config       text NOT NULL,
  arch         text NOT NULL,
  platform     text NOT NULL,
  lab          text NOT NULL,
  run          integer NOT NULL DEFAULT 0,       -- repeated runs (regression confirmation, bisection checks)
  status       text NOT NULL DEFAULT 'queued',   -- queued | running | pass | fail | infra-error | offline | skip
  duration_ms  integer,
  log_key      text,
  message      text,
  attempts     integer NOT NULL DEFAULT 1,
  workflow_id  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  UNIQUE (build_id, platform, lab, run)
);
CREATE INDEX boots_created ON boots (created_at DESC);
CREATE INDEX boots_lab_created ON boots (lab, created_at DESC);
CREATE INDEX boots_platform_created ON boots (platform, created_at DESC);
CREATE INDEX boots_tree_sha ON boots (tree, sha);
CREATE INDEX boots_status_created ON boots (status, created_at DESC);

CREATE TABLE regressions (
  id             bigserial PRIMARY KEY,
  tree           text NOT NULL,
  branch         text NOT NULL,
  kind           text NOT NULL,                 -- build | boot
  config         text NOT NULL,
  platform       text NOT NULL DEFAULT '',      -- '' for build regressions
  state          text NOT NULL,                 -- new | still-failing | fixed
  last_good_sha  text,
  first_bad_sha  text NOT NULL,
  first_bad_at   timestamptz NOT NULL DEFAULT now(),
  last_bad_sha   text,
  fixed_sha      text,
  bisection_id   bigint,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tree, branch, kind, config, platform, first_bad_sha)
);
CREATE INDEX regressions_state ON regressions (state, updated_at DESC);
CREATE INDEX regressions_series ON regressions (tree, branch, kind, config, platform);

CREATE TABLE bisections (
  id           bigserial PRIMARY KEY,
  workflow_id  text NOT NULL UNIQUE,
  tree         text NOT NULL,
  branch       text,
  good_sha     text NOT NULL,
  bad_sha      text NOT NULL,
  config       text NOT NULL,
  platform     text NOT NULL,
  lab          text,
  status       text NOT NULL DEFAULT 'running',  -- running | found | not-found | invalid | error
  culprit_sha  text,
  verdict      jsonb,
  steps        jsonb NOT NULL DEFAULT '[]',
  bisect_log   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX bisections_created ON bisections (created_at DESC);

CREATE TABLE reports (
  id           bigserial PRIMARY KEY,
  message_id   text NOT NULL UNIQUE,
  kind         text NOT NULL,                    -- build | boot | bisect | follow-up
  tree         text NOT NULL,
  branch       text,
  sha          text,
  subject      text NOT NULL,
  recipients   jsonb NOT NULL DEFAULT '[]',
  in_reply_to  text,
  status       text NOT NULL DEFAULT 'sending',  -- sending | sent
  eml_key      text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz
);
CREATE INDEX reports_created ON reports (created_at DESC);

-- Boots handed to labs that run no worker (api adapter): the activity's task
-- token waits here until the lab posts its result.
CREATE TABLE lab_jobs (
  id            bigserial PRIMARY KEY,
  lab           text NOT NULL,
  boot_key      text NOT NULL UNIQUE,
  task_token    bytea NOT NULL,
  request       jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'pending',  -- pending | done | expired
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz
);
CREATE INDEX lab_jobs_pending ON lab_jobs (lab, status, created_at);
