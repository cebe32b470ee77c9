-- Leaders and amplifiers of the given narratives ($ids), the most followed first, at most $per of each per narrative.
SELECT narrative_id, role, outlet, followers, first_day, lag_days, parent_outlet
FROM narrative_cascades
WHERE narrative_id IN (SELECT unnest($ids)) AND role IN ('leader', 'amplifier')
QUALIFY row_number() OVER (PARTITION BY narrative_id, role ORDER BY followers DESC, lag_days, outlet) <= $per
ORDER BY narrative_id, role DESC, followers DESC, lag_days, outlet;
