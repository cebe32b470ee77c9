-- Write pipeline_meta[$key] = $value; with $replace false only when the key is absent.
-- Delete-then-insert rather than ON CONFLICT: DuckLake has no primary keys (same result on a DuckDB file).
DELETE FROM pipeline_meta
WHERE key = $key AND $replace;
INSERT INTO pipeline_meta (key, value)
SELECT $key, $value
WHERE NOT EXISTS (SELECT 1 FROM pipeline_meta WHERE key = $key);
