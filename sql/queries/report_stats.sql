SELECT
    count(DISTINCT p.article_id),
    count(*),
    count(DISTINCT a.outlet),
    (SELECT count(DISTINCT pn.narrative_id) FROM paragraph_narratives AS pn JOIN paragraphs AS q USING (paragraph_id)
     WHERE pn.partition_date BETWEEN $start AND $end AND ($language IS NULL OR q.language = $language))
FROM paragraphs AS p JOIN articles AS a USING (article_id)
WHERE p.partition_date BETWEEN $start AND $end AND ($language IS NULL OR p.language = $language);
