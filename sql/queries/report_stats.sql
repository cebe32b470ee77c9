SELECT
    count(DISTINCT p.article_id),
    count(*),
    count(DISTINCT a.outlet),
    (SELECT count(DISTINCT narrative_id) FROM paragraph_narratives WHERE partition_date BETWEEN $start AND $end)
FROM paragraphs AS p JOIN articles AS a USING (article_id)
WHERE p.partition_date BETWEEN $start AND $end;
