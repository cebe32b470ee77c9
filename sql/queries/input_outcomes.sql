-- Paths of one ingest by outcome (the articles asset's accounting check).
SELECT outcome, count(*) AS paths
FROM input_files
WHERE ingest_id = $ingest_id
GROUP BY outcome
ORDER BY outcome;
