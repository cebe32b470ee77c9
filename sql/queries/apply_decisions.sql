-- Apply analyst decisions (the latest per narrative and action). Rename: new label. Reject / promote:
-- the narrative keeps its row (status) but loses its assignments. Merge: its assignments move to the target.
UPDATE narratives SET status = 'active' WHERE status IS NULL;
UPDATE narratives
SET label = d.value
FROM (
    SELECT narrative_id, arg_max(value, decided_at) AS value FROM narrative_decisions WHERE action = 'rename' GROUP BY ALL
) AS d
WHERE narratives.narrative_id = d.narrative_id;
UPDATE narratives
SET status = d.status
FROM (
    SELECT narrative_id,
           CASE arg_max(action, decided_at) WHEN 'reject' THEN 'rejected' WHEN 'merge' THEN 'merged' ELSE 'promoted' END AS status
    FROM narrative_decisions WHERE action IN ('reject', 'merge', 'promote') GROUP BY ALL
) AS d
WHERE narratives.narrative_id = d.narrative_id AND narratives.origin = 'discovered';
INSERT INTO paragraph_narratives BY NAME
SELECT pn.* REPLACE (m.target AS narrative_id)
FROM paragraph_narratives AS pn
JOIN (
    SELECT narrative_id, arg_max(value, decided_at) AS target FROM narrative_decisions WHERE action = 'merge' GROUP BY ALL
) AS m USING (narrative_id)
JOIN narratives AS t ON t.narrative_id = m.target
WHERE NOT EXISTS (
    SELECT 1 FROM paragraph_narratives AS x WHERE x.paragraph_id = pn.paragraph_id AND x.narrative_id = m.target
);
DELETE FROM paragraph_narratives
WHERE narrative_id IN (SELECT narrative_id FROM narratives WHERE status IN ('rejected', 'merged', 'promoted'));
