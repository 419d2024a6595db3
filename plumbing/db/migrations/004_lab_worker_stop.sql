-- When an operator stopped the lab's in-process worker (the embedded stack's
-- lab switch); null while it runs. A stop is exact evidence where Temporal's
-- poller list only tells when a poll last started, so `bootfarm lab list` and
-- the check before dispatch read it (activities/labHealth.ts).
ALTER TABLE labs ADD COLUMN IF NOT EXISTS worker_stopped_at timestamptz;
