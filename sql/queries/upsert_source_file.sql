-- Record that a file (content + ingest options) was read (once: an anti-join, not ON CONFLICT, so that it runs
-- on DuckLake too, which has no primary keys).
INSERT INTO source_files BY NAME
SELECT s.*
FROM staged_source_files AS s
ANTI JOIN source_files AS f USING (source_sha256, options_fingerprint);
