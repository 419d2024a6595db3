-- The dashboard at a million boots (bench/dashboard.ts; plans in BENCHMARKS.md).

-- A commit prefix (the API's sha= filter takes 7 to 40 hex digits) is matched
-- as a byte-wise range, sha ~>=~ 'prefix' and sha ~<~ 'prefix' || 'g'
-- (dashboard/data/page.ts), which text_pattern_ops indexes answer in any
-- collation and in a prepared statement's generic plan (starts_with() and
-- LIKE with a parameter use no index there): without them a sha= filter read
-- every boot. Such an index answers sha = too, so it replaces boots (tree, sha).
CREATE INDEX IF NOT EXISTS boots_sha_prefix ON boots (sha text_pattern_ops);
DROP INDEX IF EXISTS boots_tree_sha;
CREATE INDEX IF NOT EXISTS builds_sha_prefix ON builds (sha text_pattern_ops);
CREATE INDEX IF NOT EXISTS revisions_sha_prefix ON revisions (sha text_pattern_ops);

-- A bisection's page lists the regressions it bisected.
CREATE INDEX IF NOT EXISTS regressions_bisection ON regressions (bisection_id) WHERE bisection_id IS NOT NULL;

-- Boots per UTC day, platform and status, kept by triggers: the platform
-- page's 30-day counts and the daily chart read a few hundred rows of this
-- instead of counting a million boots. The triggers are per statement (a
-- bulk insert costs one aggregate) and lock counter rows in key order, so two
-- recordings that touch the same counters wait for each other, never deadlock.
CREATE TABLE IF NOT EXISTS boot_daily_counts (
  day       date NOT NULL,
  platform  text NOT NULL,
  status    text NOT NULL,
  n         bigint NOT NULL,
  PRIMARY KEY (day, platform, status)
);

CREATE OR REPLACE FUNCTION boot_daily_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- plpgsql plans a statement when it first runs it: each branch names only
  -- the transition tables its event has.
  IF TG_OP = 'INSERT' THEN
    INSERT INTO boot_daily_counts AS c (day, platform, status, n)
      SELECT (created_at AT TIME ZONE 'UTC')::date, platform, status, count(*)
      FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (day, platform, status) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO boot_daily_counts AS c (day, platform, status, n)
      SELECT (created_at AT TIME ZONE 'UTC')::date, platform, status, -count(*)
      FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (day, platform, status) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO boot_daily_counts AS c (day, platform, status, n)
      SELECT day, platform, status, sum(delta)
      FROM (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, platform, status, 1 AS delta FROM new_rows
            UNION ALL
            SELECT (created_at AT TIME ZONE 'UTC')::date, platform, status, -1 FROM old_rows) d
      GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
      ON CONFLICT (day, platform, status) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION boot_daily_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM boot_daily_counts;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS boot_daily_counts_insert ON boots;
DROP TRIGGER IF EXISTS boot_daily_counts_update ON boots;
DROP TRIGGER IF EXISTS boot_daily_counts_delete ON boots;
DROP TRIGGER IF EXISTS boot_daily_counts_truncate ON boots;
-- (a trigger with transition tables takes one event)
CREATE TRIGGER boot_daily_counts_insert AFTER INSERT ON boots REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION boot_daily_counts_apply();
CREATE TRIGGER boot_daily_counts_update AFTER UPDATE ON boots REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION boot_daily_counts_apply();
CREATE TRIGGER boot_daily_counts_delete AFTER DELETE ON boots REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION boot_daily_counts_apply();
CREATE TRIGGER boot_daily_counts_truncate AFTER TRUNCATE ON boots
  FOR EACH STATEMENT EXECUTE FUNCTION boot_daily_counts_clear();

-- The boots recorded so far (the triggers above hold writers off until this commits).
DELETE FROM boot_daily_counts;
INSERT INTO boot_daily_counts (day, platform, status, n)
  SELECT (created_at AT TIME ZONE 'UTC')::date, platform, status, count(*) FROM boots GROUP BY 1, 2, 3;
