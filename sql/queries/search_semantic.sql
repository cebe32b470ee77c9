-- Semantic search: cosine between the query's embedding ($vector, same model) and every paragraph's.
SELECT list_cosine_similarity(e.embedding::FLOAT[], $vector::FLOAT[]) AS score,
       p.partition_date AS day, coalesce(a.outlet, '(unknown)') AS outlet, a.title, a.url, p.paragraph_id, p.text,
       (SELECT list(narrative_id) FROM paragraph_narratives pn WHERE pn.paragraph_id = p.paragraph_id) AS narratives
FROM paragraphs AS p
JOIN paragraph_embeddings AS e ON e.text_hash = p.text_hash AND e.model = $model
JOIN articles AS a USING (article_id)
WHERE ($outlet IS NULL OR a.outlet ILIKE $outlet)
  AND ($date_from IS NULL OR p.partition_date >= $date_from::DATE)
  AND ($date_to IS NULL OR p.partition_date <= $date_to::DATE)
ORDER BY score DESC, p.paragraph_id
LIMIT $limit;
