-- Indexes for the dashboard's lists: keyset pagination on (time, id), newest
-- first, reads the next page straight from an index whatever its depth.
CREATE INDEX IF NOT EXISTS builds_created_id ON builds (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS boots_created_id ON boots (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS regressions_created_id ON regressions (created_at DESC, id DESC);
-- The regressions page lists the active ones (new, still failing) first.
CREATE INDEX IF NOT EXISTS regressions_active ON regressions (created_at DESC, id DESC) WHERE state <> 'fixed';
-- A lab token is looked up by its hash on every lab API request.
CREATE INDEX IF NOT EXISTS labs_token_hash ON labs (token_hash) WHERE token_hash IS NOT NULL;
