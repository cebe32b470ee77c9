-- One fingerprint per narrative of its assignments (which paragraphs, and whether each refutes it), from
-- paragraph_narratives alone, against the one stored at the last influence update (cascade_fingerprints):
-- `changed` marks the narratives whose adoptions may have changed since, vanished ones included (fingerprint NULL).
WITH now AS (
    SELECT narrative_id,
           bit_xor(hash(paragraph_id, stance IS NOT DISTINCT FROM 'refutes')) AS fingerprint,
           count(*) AS assignments
    FROM paragraph_narratives
    GROUP BY narrative_id
)
SELECT
    coalesce(n.narrative_id, f.narrative_id) AS narrative_id,
    n.fingerprint,
    n.assignments,
    f.narrative_id IS NULL OR n.narrative_id IS NULL OR n.fingerprint <> f.fingerprint OR n.assignments <> f.assignments AS changed
FROM now AS n
FULL OUTER JOIN cascade_fingerprints AS f USING (narrative_id)
ORDER BY 1;
