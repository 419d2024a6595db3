-- Per-test results of the boots' test plans (domain/testResults.ts), one row
-- per test path per boot, written with the boot (activities/pipeline/records.ts)
-- from the boot's results file. The boot's identity (tree, sha, config,
-- platform, scope) is repeated here so that "this test's history on this
-- platform" is one index range scan, newest first, without a join per row.
CREATE TABLE IF NOT EXISTS test_results (
  id          bigserial PRIMARY KEY,
  boot_id     bigint NOT NULL REFERENCES boots (id) ON DELETE CASCADE,
  tree        text NOT NULL,
  sha         text NOT NULL,
  config      text NOT NULL,
  platform    text NOT NULL,
  scope       text NOT NULL DEFAULT '',
  path        text NOT NULL,
  plan        text NOT NULL,
  status      text NOT NULL CHECK (status IN ('PASS', 'FAIL', 'SKIP', 'ERROR', 'MISS')),
  xfail       boolean NOT NULL DEFAULT false,
  reason      text,
  -- the last lines printed for a result that did not pass
  log_excerpt text,
  -- 1-based line of the boot's console log where its result was printed
  log_line    integer,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (boot_id, path)
);
-- one test's history on one platform (the revisions' own boots), newest first
CREATE INDEX IF NOT EXISTS test_results_history ON test_results (path, platform, created_at DESC) WHERE scope = '';
-- search by path prefix (`kselftest.timers.` …)
CREATE INDEX IF NOT EXISTS test_results_path_prefix ON test_results (path text_pattern_ops);
-- a revision's results, grouped by plan and suite
CREATE INDEX IF NOT EXISTS test_results_revision ON test_results (tree, sha, plan, path);
