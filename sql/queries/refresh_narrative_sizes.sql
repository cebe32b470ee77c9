-- Paragraph counts and the three best paragraphs of every narrative.
UPDATE narratives
SET paragraphs = coalesce(s.paragraphs, 0),
    representative_paragraph_ids = s.best
FROM (
    SELECT n.narrative_id,
           count(DISTINCT pn.paragraph_id) AS paragraphs,
           list(pn.paragraph_id ORDER BY pn.score DESC, pn.paragraph_id)[1:3] AS best
    FROM narratives AS n
    LEFT JOIN paragraph_narratives AS pn USING (narrative_id)
    GROUP BY n.narrative_id
) AS s
WHERE narratives.narrative_id = s.narrative_id;
