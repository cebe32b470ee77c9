-- Which of these content hashes were ingested already (any options): the inbox sensor's test.
SELECT DISTINCT source_sha256
FROM source_files
WHERE source_sha256 IN (SELECT unnest($shas::VARCHAR[]));
