-- The cascades as the influence network stored them: of the narratives in staged_narratives, or all when $all.
SELECT narrative_id, outlet, first_day, paragraphs, parent_outlet, parent_lag_days, lag_days, followers, role
FROM narrative_cascades
WHERE $all OR narrative_id IN (SELECT narrative_id FROM staged_narratives)
ORDER BY narrative_id, first_day, outlet;
