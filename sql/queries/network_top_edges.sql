-- The strongest edges of the influence network: the narratives they explain (support), then weight.
SELECT source, target, support, round(weight, 3) AS weight, median_lag_days, copied_paragraphs
FROM outlet_influence
ORDER BY support DESC, weight DESC, source, target
LIMIT $limit;
