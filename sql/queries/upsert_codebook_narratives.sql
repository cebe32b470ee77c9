-- Narratives removed from the codebook go, with their assignments; the others are inserted or updated.
-- Update-then-insert-missing rather than ON CONFLICT: DuckLake has no primary keys (same result on a DuckDB file).
DELETE FROM paragraph_narratives
WHERE narrative_id IN (
    SELECT narrative_id FROM narratives WHERE origin = 'codebook' AND NOT list_contains($ids, narrative_id)
);
DELETE FROM narratives
WHERE origin = 'codebook' AND NOT list_contains($ids, narrative_id);
UPDATE narratives SET parent_narrative_id = NULL, parent_share = NULL  -- its frame left the codebook
WHERE parent_narrative_id IS NOT NULL AND NOT list_contains($ids, parent_narrative_id);
UPDATE narratives
SET label = s.label,
    description = s.description,
    keywords = s.keywords,
    threshold = s.threshold,
    updated_at = s.updated_at
FROM staged_narratives AS s
WHERE narratives.narrative_id = s.narrative_id;
INSERT INTO narratives BY NAME
SELECT s.*
FROM staged_narratives AS s
ANTI JOIN narratives AS n USING (narrative_id);
