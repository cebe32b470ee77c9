-- Outlets that took up more than $min_narratives narratives within $days day(s) after outlet $outlet did
-- (same day included), from narrative_cascades.
SELECT b.outlet, count(*) AS narratives, round(avg(datediff('day', a.first_day, b.first_day)), 2) AS mean_lag_days
FROM narrative_cascades AS a
JOIN narrative_cascades AS b USING (narrative_id)
WHERE a.outlet = $outlet
  AND b.outlet <> a.outlet
  AND b.first_day >= a.first_day
  AND datediff('day', a.first_day, b.first_day) <= $days
GROUP BY b.outlet
HAVING count(*) > $min_narratives
ORDER BY narratives DESC, b.outlet;
