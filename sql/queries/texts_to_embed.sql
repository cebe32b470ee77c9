-- Distinct paragraph texts of the partitions in [start, end] with no embedding for $model yet.
SELECT p.text_hash, any_value(p.text) AS text
FROM paragraphs AS p
WHERE p.partition_date BETWEEN $start AND $end
  AND NOT EXISTS (
      SELECT 1 FROM paragraph_embeddings AS e
      WHERE e.text_hash = p.text_hash AND e.model = $model
  )
GROUP BY p.text_hash
ORDER BY p.text_hash;
