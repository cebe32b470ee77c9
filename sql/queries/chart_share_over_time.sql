-- The $top narratives (active, by paragraphs) of the $days days ending $end (default: the last day with paragraphs).
WITH last AS (SELECT coalesce($end::DATE, max(partition_date)) AS d FROM paragraphs),
window_rows AS (
    SELECT nd.* FROM narrative_daily AS nd, last
    WHERE nd.day > last.d - ($days::INTEGER) AND nd.day <= last.d
),
top AS (
    SELECT w.narrative_id FROM window_rows AS w JOIN narratives AS n USING (narrative_id)
    WHERE coalesce(n.status, 'active') = 'active'
    GROUP BY w.narrative_id HAVING sum(w.paragraphs) > 0
    ORDER BY sum(w.paragraphs) DESC, w.narrative_id LIMIT $top
)
SELECT day, narrative_id, label, paragraphs, coalesce(share_7d, 0) AS share_7d
FROM window_rows WHERE narrative_id IN (SELECT narrative_id FROM top)
ORDER BY day, narrative_id;
