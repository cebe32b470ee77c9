-- Training material from analyst decisions (narratives/heads.py, decision_material): the member paragraph texts
-- of discovered narratives whose latest decision is 'promote' (value = the codebook id) or 'reject', with their
-- stored vectors for $model. One row per (decision, distinct text).
WITH latest AS (
    SELECT narrative_id, arg_max(action, decided_at) AS action, arg_max(value, decided_at) AS value
    FROM narrative_decisions WHERE action IN ('promote', 'reject', 'merge') GROUP BY narrative_id
)
SELECT d.action, d.value, any_value(p.text) AS text, any_value(e.embedding) AS embedding
FROM latest AS d
JOIN discovered_members AS m USING (narrative_id)
JOIN paragraphs AS p ON p.text_hash = m.text_hash
JOIN paragraph_embeddings AS e ON e.text_hash = m.text_hash AND e.model = $model
WHERE d.action IN ('promote', 'reject')
GROUP BY d.action, d.value, m.text_hash
ORDER BY d.action, d.value, m.text_hash;
