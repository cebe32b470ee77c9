-- Migrations that adding missing columns (narrative_tracker/db.py) cannot do, run on every open for writing;
-- each statement is idempotent.
-- Schema 3: stance NULL = unknown (a discovered narrative without a claim label has nothing to take a stance on).
ALTER TABLE paragraph_narratives ALTER COLUMN stance DROP NOT NULL;
