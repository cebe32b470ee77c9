-- Two strongest paragraphs per narrative in the week, preferring body text (not cross-headings) and asserted ones.
SELECT * FROM (
    SELECT pn.narrative_id, p.text, coalesce(a.outlet, 'unknown outlet') AS outlet, pn.partition_date AS day, pn.stance, a.url, a.title,
           row_number() OVER (PARTITION BY pn.narrative_id
                              ORDER BY p.kind = 'body' DESC, pn.stance = 'asserts' DESC, pn.score DESC, p.paragraph_id) AS rank
    FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id) JOIN articles AS a USING (article_id)
    WHERE pn.partition_date BETWEEN $start AND $end AND list_contains($ids, pn.narrative_id)
)
WHERE rank <= 2
ORDER BY narrative_id, rank;
