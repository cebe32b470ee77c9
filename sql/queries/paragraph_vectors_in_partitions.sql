-- Paragraphs of days [start, end] with their vectors for $model, in article order. One row per paragraph even
-- while a concurrent worker's duplicate vector (DuckLake, see dedupe_embeddings.sql) is not yet removed.
SELECT p.paragraph_id, p.article_id, p.position, p.partition_date, p.text, p.language, e.embedding
FROM paragraphs AS p
JOIN paragraph_embeddings AS e ON e.text_hash = p.text_hash AND e.model = $model
WHERE p.partition_date BETWEEN $start AND $end
QUALIFY row_number() OVER (PARTITION BY p.paragraph_id) = 1
ORDER BY p.article_id, p.position;
