-- The codebook assignments the models are least sure about: detection confidence (or stance confidence)
-- nearest 0.5 first. One row per (paragraph, narrative).
SELECT pn.paragraph_id, pn.narrative_id, n.label AS claim, p.text,
       round(pn.confidence, 4) AS detection_confidence, pn.stance, round(pn.stance_confidence, 4) AS stance_confidence
FROM paragraph_narratives AS pn
JOIN paragraphs AS p USING (paragraph_id)
JOIN narratives AS n USING (narrative_id)
WHERE pn.method = 'codebook'
ORDER BY least(abs(coalesce(pn.confidence, 0.5) - 0.5), abs(coalesce(pn.stance_confidence, 1.0) - 0.5)), pn.paragraph_id, pn.narrative_id
LIMIT $limit;
