-- Every paragraph text discovery saw (no codebook narrative), its discovered narrative (NULL = noise)
-- and the reference tags of its article (e.g. EUvsDisinfo keywords), for agreement measures.
SELECT
    p.text_hash,
    any_value(pn.narrative_id) AS narrative_id,
    any_value(a.tags) AS tags
FROM paragraphs AS p
JOIN articles AS a USING (article_id)
LEFT JOIN paragraph_narratives AS pn ON pn.paragraph_id = p.paragraph_id AND pn.method = 'discovered'
WHERE NOT EXISTS (
    SELECT 1 FROM paragraph_narratives AS c
    WHERE c.paragraph_id = p.paragraph_id AND c.method = 'codebook'
)
  AND len(a.tags) > 0
GROUP BY p.text_hash;
