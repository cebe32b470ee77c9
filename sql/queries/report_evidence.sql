-- Evidence per narrative in the week: its two most confident ASSERTING paragraphs (confidence = the pair model's
-- probability that the paragraph carries the narrative x its stance probability; rows stage 1 decided: detection
-- confidence, or score when uncalibrated, x the stance model's confidence), body text before cross-headings.
-- Paragraphs that report, question or refute a narrative are never its evidence; discovered narratives (no stance)
-- show their most central members whatever the lexicon's stance. Only paragraphs in $language when it is not NULL.
SELECT * FROM (
    SELECT pn.narrative_id, p.text, coalesce(p.language, '?') AS language, coalesce(a.outlet, 'unknown outlet') AS outlet, pn.partition_date AS day, pn.stance, a.url, a.title,
           row_number() OVER (PARTITION BY pn.narrative_id
                              ORDER BY p.kind = 'body' DESC,
                                       coalesce(pn.confidence, pn.score) * coalesce(pn.stance_confidence, 1.0) DESC,
                                       pn.score DESC, p.paragraph_id) AS rank
    FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id) JOIN articles AS a USING (article_id)
    WHERE pn.partition_date BETWEEN $start AND $end AND list_contains($ids, pn.narrative_id)
      AND (pn.stance = 'asserts' OR pn.method = 'discovered')
      AND pn.stance_cue IS DISTINCT FROM 'question'
      AND ($language IS NULL OR p.language = $language)
)
WHERE rank <= 2
ORDER BY narrative_id, rank;
