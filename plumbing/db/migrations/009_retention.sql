-- Retention (docs/retention.md): what the sweep removed from the artifact
-- store and the outbox, so that the dashboard says "expired" instead of
-- linking to nothing. A mark is written only after the object is gone (a
-- crash in between leaves an unmarked row that the next sweep finds again,
-- never a mark on an object that is still there). A re-run of the same
-- build or boot clears its marks (activities/pipeline/records.ts).
ALTER TABLE builds ADD COLUMN IF NOT EXISTS artifacts_expired_at timestamptz;
ALTER TABLE builds ADD COLUMN IF NOT EXISTS log_expired_at timestamptz;
ALTER TABLE boots ADD COLUMN IF NOT EXISTS log_expired_at timestamptz;
ALTER TABLE reports ADD COLUMN IF NOT EXISTS eml_expired_at timestamptz;

-- The sweep reads the oldest unexpired rows first; these shrink as rows expire.
CREATE INDEX IF NOT EXISTS builds_artifacts_unexpired ON builds ((coalesce(finished_at, created_at)), id)
  WHERE artifacts_expired_at IS NULL;
CREATE INDEX IF NOT EXISTS builds_log_unexpired ON builds ((coalesce(finished_at, created_at)), id)
  WHERE log_expired_at IS NULL AND log_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS boots_log_unexpired ON boots ((coalesce(finished_at, created_at)), id)
  WHERE log_expired_at IS NULL AND log_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_eml_unexpired ON reports ((coalesce(sent_at, created_at)), id)
  WHERE eml_expired_at IS NULL AND eml_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS lab_jobs_finished ON lab_jobs ((coalesce(completed_at, created_at)), id);

-- The dashboard's /artifacts/<key> answers "expired" for a key the sweep removed (an old mail's link).
CREATE INDEX IF NOT EXISTS builds_expired_log_key ON builds (log_key) WHERE log_expired_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS boots_expired_log_key ON boots (log_key) WHERE log_expired_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS builds_expired_artifact_keys ON builds
  USING gin (jsonb_path_query_array(artifacts, '$.*.key')) WHERE artifacts_expired_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_expired_eml_key ON reports (eml_key) WHERE eml_expired_at IS NOT NULL;
