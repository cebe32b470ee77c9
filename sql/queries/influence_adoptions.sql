-- The adoptions of the narratives in staged_narratives (all of them when $all): per narrative and outlet, its
-- first day carrying the narrative and how many paragraphs. Every outlet an article names counts (articles.outlets,
-- or the first outlet when the list is empty); paragraphs that refute the narrative are no adoption.
SELECT narrative_id, outlet, min(partition_date) AS first_day, count(DISTINCT paragraph_id) AS paragraphs
FROM (
    SELECT
        pn.narrative_id,
        pn.paragraph_id,
        pn.partition_date,
        unnest(CASE WHEN len(coalesce(a.outlets, [])) > 0 THEN a.outlets ELSE [a.outlet] END) AS outlet
    FROM paragraph_narratives AS pn
    JOIN paragraphs AS p USING (paragraph_id)
    JOIN articles AS a USING (article_id)
    WHERE pn.stance IS DISTINCT FROM 'refutes'
      AND ($all OR pn.narrative_id IN (SELECT narrative_id FROM staged_narratives))
)
WHERE outlet IS NOT NULL AND trim(outlet) <> ''
GROUP BY narrative_id, outlet
ORDER BY narrative_id, first_day, outlet;
