-- The strongest edges of the influence network: the narratives they explain (support), then weight; with the
-- paragraphs the target copied from the source (outlet_copies).
SELECT e.source, e.target, e.support, round(e.weight, 3) AS weight, e.median_lag_days,
       coalesce(c.copied_paragraphs, 0) AS copied_paragraphs
FROM outlet_influence AS e
LEFT JOIN outlet_copies AS c ON c.source_outlet = e.source AND c.outlet = e.target
ORDER BY e.support DESC, e.weight DESC, e.source, e.target
LIMIT $limit;
