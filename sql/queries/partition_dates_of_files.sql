-- The daily partitions holding the articles of the given input files.
SELECT DISTINCT partition_date
FROM articles
WHERE source_sha256 IN (SELECT unnest($shas::VARCHAR[]))
ORDER BY partition_date;
