-- Evidence per narrative in the week: its two highest-confidence ASSERTING paragraphs first (confidence =
-- detection confidence, or score when uncalibrated, x the stance model's confidence), body text before
-- cross-headings; only when a narrative has fewer asserting paragraphs do others follow (shown with their stance).
-- A question (stance_cue 'question') is never evidence. Only paragraphs in $language when it is not NULL.
SELECT * FROM (
    SELECT pn.narrative_id, p.text, coalesce(p.language, '?') AS language, coalesce(a.outlet, 'unknown outlet') AS outlet, pn.partition_date AS day, pn.stance, a.url, a.title,
           row_number() OVER (PARTITION BY pn.narrative_id
                              ORDER BY pn.stance = 'asserts' DESC, p.kind = 'body' DESC,
                                       coalesce(pn.confidence, pn.score) * coalesce(pn.stance_confidence, 1.0) DESC,
                                       pn.score DESC, p.paragraph_id) AS rank
    FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id) JOIN articles AS a USING (article_id)
    WHERE pn.partition_date BETWEEN $start AND $end AND list_contains($ids, pn.narrative_id)
      AND pn.stance_cue IS DISTINCT FROM 'question'
      AND ($language IS NULL OR p.language = $language)
)
WHERE rank <= 2
ORDER BY narrative_id, rank;
