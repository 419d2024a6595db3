-- What the exactly-once mail delivery needs besides status sending|sent:
-- when the current attempt claimed the report (a younger claim may still be
-- talking to the SMTP server), how it ended, and the database time the
-- report's data was read at (a follow-up lists results finished after it).
ALTER TABLE reports
  ADD COLUMN attempts    integer NOT NULL DEFAULT 0,
  ADD COLUMN attempt_at  timestamptz,
  ADD COLUMN last_error  text,
  ADD COLUMN transport   text,                -- smtp | outbox
  ADD COLUMN data_as_of  timestamptz;
