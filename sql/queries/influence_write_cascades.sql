-- Replace the cascades of the touched narratives (staged_touched; every cascade when $full) by staged_cascades,
-- the fingerprints of the flagged narratives (staged_flagged; all when $full) by staged_fingerprints, and the
-- candidate edges weighed (staged_weighed; all when $full) by staged_candidates.
DELETE FROM narrative_cascades
WHERE $full OR narrative_id IN (SELECT narrative_id FROM staged_touched);
INSERT INTO narrative_cascades BY NAME
SELECT narrative_id, outlet, first_day, paragraphs, lag_days, parent_outlet, parent_lag_days, followers, role,
       $now AS computed_at
FROM staged_cascades;
DELETE FROM cascade_fingerprints
WHERE $full OR narrative_id IN (SELECT narrative_id FROM staged_flagged);
INSERT INTO cascade_fingerprints BY NAME
SELECT narrative_id, fingerprint, assignments FROM staged_fingerprints;
DELETE FROM influence_candidates
WHERE $full OR EXISTS (SELECT 1 FROM staged_weighed AS w WHERE w.source = influence_candidates.source AND w.target = influence_candidates.target);
INSERT INTO influence_candidates BY NAME
SELECT source, target, bound FROM staged_candidates;
