-- Two levels of narrative: every discovered narrative's parent is the codebook narrative (the frame) that more than
-- half of its distinct member texts carry (ties: the one more members carry, then the smaller id); none: NULL.
-- A member text carries a codebook narrative when any paragraph with that text was assigned it. Run after every
-- discovery (also when discovery itself was skipped: the codebook assignments may have changed).
UPDATE narratives SET parent_narrative_id = NULL, parent_share = NULL
WHERE origin = 'discovered' AND parent_narrative_id IS NOT NULL;
UPDATE narratives
SET parent_narrative_id = s.parent, parent_share = s.share
FROM (
    WITH sizes AS (
        SELECT narrative_id, count(*) AS members FROM discovered_members GROUP BY ALL
    ),
    carried AS (
        SELECT DISTINCT p.text_hash, pn.narrative_id AS parent
        FROM paragraph_narratives AS pn
        JOIN paragraphs AS p USING (paragraph_id)
        JOIN narratives AS c ON c.narrative_id = pn.narrative_id AND c.origin = 'codebook'
        WHERE pn.method = 'codebook'
    ),
    counts AS (
        SELECT m.narrative_id, c.parent, count(*) AS carrying
        FROM discovered_members AS m
        JOIN carried AS c USING (text_hash)
        GROUP BY ALL
    )
    SELECT k.narrative_id, k.parent, k.carrying / s.members AS share
    FROM counts AS k
    JOIN sizes AS s USING (narrative_id)
    WHERE 2 * k.carrying > s.members
    QUALIFY row_number() OVER (PARTITION BY k.narrative_id ORDER BY k.carrying DESC, k.parent) = 1
) AS s
WHERE narratives.narrative_id = s.narrative_id AND narratives.origin = 'discovered';
