-- Every narrative's adoptions (the cascades of the influence network): per narrative and outlet, its first day
-- carrying the narrative and how many paragraphs. Every outlet an article names counts (articles.outlets; the
-- first outlet when the list is empty); paragraphs that refute the narrative are no adoption.
SELECT
    pn.narrative_id,
    o.outlet,
    min(pn.partition_date) AS first_day,
    count(DISTINCT pn.paragraph_id) AS paragraphs
FROM paragraph_narratives AS pn
JOIN paragraphs AS p USING (paragraph_id)
JOIN articles AS a USING (article_id),
    unnest(CASE WHEN len(coalesce(a.outlets, [])) > 0 THEN a.outlets ELSE [a.outlet] END) AS o(outlet)
WHERE pn.stance IS DISTINCT FROM 'refutes' AND o.outlet IS NOT NULL AND trim(o.outlet) <> ''
GROUP BY ALL
ORDER BY pn.narrative_id, first_day, o.outlet;
