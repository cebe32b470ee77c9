-- The nightly update: for candidate edges (staged_candidates: source, target), the cascades left unchanged
-- (not in staged_changed) in which the source took the narrative up no later than the target and at most
-- $max_lag days before, with the target's stored parent (its best explanation so far).
SELECT
    a.narrative_id,
    a.outlet AS source,
    b.outlet AS target,
    datediff('day', a.first_day, b.first_day) AS lag,
    b.parent_outlet,
    b.parent_lag_days
FROM staged_candidates AS c
JOIN narrative_cascades AS a ON a.outlet = c.source
JOIN narrative_cascades AS b ON b.narrative_id = a.narrative_id AND b.outlet = c.target
WHERE b.first_day >= a.first_day
  AND datediff('day', a.first_day, b.first_day) <= $max_lag
  AND a.narrative_id NOT IN (SELECT narrative_id FROM staged_changed);
