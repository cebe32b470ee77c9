-- Per input file: the labels of the codebook narratives its paragraphs carry (for document-level evaluation).
SELECT
    regexp_extract(a.source_path, '[^/\\]+$') AS file,
    list(DISTINCT {'id': n.narrative_id, 'label': n.label}) FILTER (WHERE n.narrative_id IS NOT NULL) AS narratives
FROM articles AS a
LEFT JOIN paragraphs AS p USING (article_id)
LEFT JOIN paragraph_narratives AS pn ON pn.paragraph_id = p.paragraph_id AND pn.method = 'codebook'
LEFT JOIN narratives AS n USING (narrative_id)
GROUP BY ALL;
