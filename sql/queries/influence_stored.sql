-- The cascades as the influence network last stored them (what the nightly update compares the adoptions with).
SELECT narrative_id, outlet, first_day, paragraphs, parent_outlet, parent_lag_days
FROM narrative_cascades
ORDER BY narrative_id, first_day, outlet;
