-- Record that a file (content + ingest options) was read.
INSERT INTO source_files BY NAME
SELECT * FROM staged_source_files
ON CONFLICT (source_sha256, options_fingerprint) DO NOTHING;
