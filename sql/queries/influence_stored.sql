-- The cascades as the influence network stored them, with each adoption's parent.
SELECT narrative_id, outlet, first_day, paragraphs, parent_outlet, parent_lag_days
FROM narrative_cascades
ORDER BY narrative_id, first_day, outlet;
