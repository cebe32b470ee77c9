-- Per publication day of $start..$end and codebook narrative: paragraphs assigned, and how many of them assert
-- the narrative (rather than report or refute it); with the day's strongest evidence per narrative: the asserting
-- paragraph with the highest confidence (pair model's relatedness, else the detector's score, times the stance
-- confidence), NULL when no paragraph asserts it.
SELECT pn.partition_date AS day, pn.narrative_id,
       count(*) AS paragraphs,
       count(*) FILTER (WHERE pn.stance = 'asserts') AS asserting,
       arg_max(p.text, coalesce(pn.related, pn.score) * coalesce(pn.stance_confidence, 1))
           FILTER (WHERE pn.stance = 'asserts') AS evidence
FROM paragraph_narratives pn JOIN paragraphs p USING (paragraph_id)
WHERE pn.method = 'codebook' AND pn.partition_date BETWEEN $start AND $end
GROUP BY ALL
ORDER BY day, paragraphs DESC, pn.narrative_id;
