-- Narratives removed from the codebook go, with their assignments; the others are inserted or updated.
DELETE FROM paragraph_narratives
WHERE narrative_id IN (
    SELECT narrative_id FROM narratives WHERE origin = 'codebook' AND NOT list_contains($ids, narrative_id)
);
DELETE FROM narratives
WHERE origin = 'codebook' AND NOT list_contains($ids, narrative_id);
INSERT INTO narratives BY NAME
SELECT * FROM staged_narratives
ON CONFLICT (narrative_id) DO UPDATE SET
    label = excluded.label,
    description = excluded.description,
    keywords = excluded.keywords,
    threshold = excluded.threshold,
    updated_at = excluded.updated_at;
