-- What became of every path of one ingest; a path met again is replaced (re-runs add no rows).
-- Delete-then-insert rather than ON CONFLICT: DuckLake has no primary keys (same result on a DuckDB file).
DELETE FROM input_files
WHERE path IN (SELECT path FROM staged_input_files);
INSERT INTO input_files BY NAME
SELECT * FROM staged_input_files;
