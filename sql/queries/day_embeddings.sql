-- Per publication day of $start..$end: paragraphs, and how many have a vector of $model.
SELECT p.partition_date AS day, count(DISTINCT p.paragraph_id) AS paragraphs,
       count(DISTINCT p.paragraph_id) FILTER (WHERE e.text_hash IS NOT NULL) AS embedded
FROM paragraphs p
LEFT JOIN paragraph_embeddings e ON e.text_hash = p.text_hash AND e.model = $model
WHERE p.partition_date BETWEEN $start AND $end
GROUP BY ALL
ORDER BY 1;
