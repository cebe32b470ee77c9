-- Was this file content already ingested with these options?
SELECT count(*) > 0
FROM source_files
WHERE source_sha256 = $sha256 AND options_fingerprint = $fingerprint;
