-- Articles, paragraphs and embedded paragraphs per partition day in [start, end].
SELECT
    a.partition_date AS day,
    count(DISTINCT a.article_id) AS articles,
    count(p.paragraph_id) AS paragraphs,
    count(e.text_hash) AS embedded_paragraphs
FROM articles AS a
LEFT JOIN paragraphs AS p USING (article_id)
LEFT JOIN paragraph_embeddings AS e ON e.text_hash = p.text_hash AND e.model = $model
WHERE a.partition_date BETWEEN $start AND $end
GROUP BY ALL
ORDER BY day;
