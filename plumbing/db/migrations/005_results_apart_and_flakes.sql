-- A revision's results stay as its report read them; flakiness is kept, not
-- rediscovered (docs/reports.md).
--
-- 1. Bisection results apart from revision results. `scope` is '' for a
--    revision's own builds and boots (its pipeline, its confirmation boots,
--    an explicit re-run of it) and the workflow id of the bisection's
--    build-boot child (a step, a verify or a revert series) otherwise, so a
--    bisection that builds and boots a tested revision writes rows of its own
--    instead of overwriting the revision's. `bisection` is the bisection's
--    workflow id (bisections.workflow_id), for its page.
ALTER TABLE builds ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN IF NOT EXISTS bisection text;
ALTER TABLE boots ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT '';
ALTER TABLE boots ADD COLUMN IF NOT EXISTS bisection text;

-- Rows a bisection wrote before this migration, of commits no revision tested,
-- are the bisection's: they move to its scope. (Rows of tested revisions that a
-- bisection overwrote are the only record of those revisions: they stay.)
UPDATE builds b SET scope = b.workflow_id, bisection = bi.workflow_id
FROM bisections bi
WHERE b.scope = '' AND starts_with(b.workflow_id, bi.workflow_id || ':')
  AND NOT EXISTS (SELECT 1 FROM revisions r WHERE r.tree = b.tree AND r.sha = b.sha);
UPDATE boots x SET scope = b.scope, bisection = b.bisection
FROM builds b
WHERE x.build_id = b.id AND b.scope <> '' AND x.scope = '';

ALTER TABLE builds DROP CONSTRAINT IF EXISTS builds_tree_sha_config_key;
ALTER TABLE builds ADD CONSTRAINT builds_tree_sha_config_scope_key UNIQUE (tree, sha, config, scope);
CREATE INDEX IF NOT EXISTS boots_bisection ON boots (bisection, created_at) WHERE bisection IS NOT NULL;
-- The flake series of one (config, platform, lab): its revision boots, newest kernels first.
CREATE INDEX IF NOT EXISTS boots_series ON boots (config, platform, lab, created_at DESC) WHERE scope = '';

-- 2. Flakiness per (config, platform, lab), refreshed from the revision boots
--    whenever a revision's regressions are recorded (activities/report/flakes.ts).
--    A flake is a boot whose verdict (pass or fail) differs from the verdict of
--    the same kernel (the same build) on the same platform in the same lab, the
--    kernel's verdict being its latest boot with one; flake_rate = flakes /
--    verdict boots over the last `kernels` kernels of the series.
CREATE TABLE IF NOT EXISTS boot_flakiness (
  config      text NOT NULL,
  platform    text NOT NULL,
  lab         text NOT NULL,
  kernels     integer NOT NULL,
  boots       integer NOT NULL,
  flakes      integer NOT NULL,
  flake_rate  double precision NOT NULL,
  -- newest kernel first: [{tree, sha, outcomes: "FP"}] (F fail, P pass, in run order)
  series      jsonb NOT NULL DEFAULT '[]',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (config, platform, lab)
);
CREATE INDEX IF NOT EXISTS boot_flakiness_rate ON boot_flakiness (flake_rate DESC);

-- 3. A regression that flaps stays one regression. `reopened_sha`: the revision
--    that failed again after the fix at `fixed_sha` (the row is active again);
--    `flaps`: how many times that happened. `only_in_labs`: the labs that fail
--    while another lab passes the same kernel on the same platform ([] when
--    every lab that gave a verdict fails).
ALTER TABLE regressions ADD COLUMN IF NOT EXISTS reopened_sha text;
ALTER TABLE regressions ADD COLUMN IF NOT EXISTS flaps integer NOT NULL DEFAULT 0;
ALTER TABLE regressions ADD COLUMN IF NOT EXISTS only_in_labs jsonb NOT NULL DEFAULT '[]';

-- Its transitions: failed (first bad), fixed, failed-again, by revision.
CREATE TABLE IF NOT EXISTS regression_history (
  id             bigserial PRIMARY KEY,
  regression_id  bigint NOT NULL REFERENCES regressions (id) ON DELETE CASCADE,
  sha            text NOT NULL,
  event          text NOT NULL,   -- failed | fixed | failed-again
  at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (regression_id, sha, event)
);
INSERT INTO regression_history (regression_id, sha, event, at)
SELECT id, first_bad_sha, 'failed', first_bad_at FROM regressions
ON CONFLICT DO NOTHING;
INSERT INTO regression_history (regression_id, sha, event, at)
SELECT id, fixed_sha, 'fixed', updated_at FROM regressions WHERE state = 'fixed' AND fixed_sha IS NOT NULL
ON CONFLICT DO NOTHING;
