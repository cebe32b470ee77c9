-- Keyword search (BM25 over paragraphs.text, DuckDB fts extension), with optional outlet and date filters.
SELECT score, p.partition_date AS day, coalesce(a.outlet, '(unknown)') AS outlet, a.title, a.url, p.paragraph_id, p.text,
       (SELECT list(narrative_id) FROM paragraph_narratives pn WHERE pn.paragraph_id = p.paragraph_id) AS narratives
FROM (
    SELECT paragraph_id, fts_main_paragraphs.match_bm25(paragraph_id, $query) AS score FROM paragraphs
) AS s
JOIN paragraphs AS p USING (paragraph_id)
JOIN articles AS a USING (article_id)
WHERE s.score IS NOT NULL
  AND ($outlet IS NULL OR a.outlet ILIKE $outlet)
  AND ($date_from IS NULL OR p.partition_date >= $date_from::DATE)
  AND ($date_to IS NULL OR p.partition_date <= $date_to::DATE)
ORDER BY score DESC, p.paragraph_id
LIMIT $limit;
