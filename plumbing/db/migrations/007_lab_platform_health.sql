-- Health per (lab, platform): each platform of a lab has its own task queue
-- (lab-<lab>-<platform>) served by workers that take one boot per board, so a
-- platform whose boards are all gone goes offline on its own while the lab's
-- other platforms keep taking boots. Written by the check before dispatch
-- (activities/labs/health.ts); labs.health sums it up.
CREATE TABLE IF NOT EXISTS lab_platforms (
  lab           text NOT NULL,
  platform      text NOT NULL,
  health        text NOT NULL DEFAULT 'unknown', -- online | offline | unknown
  -- the newest sign of a worker on the platform's queue: a poll, or a heartbeat of a running worker
  last_seen_at  timestamptz,
  checked_at    timestamptz,
  -- set while an operator has this platform's in-process worker stopped (bootfarm lab stop --platform)
  worker_stopped_at timestamptz,
  PRIMARY KEY (lab, platform)
);
