-- The last $days days that raised alerts: per day, the narratives that spiked and the ones that emerged (new).
SELECT day,
       string_agg(narrative_id, ', ' ORDER BY paragraphs DESC, narrative_id) FILTER (WHERE kind = 'spike') AS spiking,
       string_agg(narrative_id, ', ' ORDER BY paragraphs DESC, narrative_id) FILTER (WHERE kind = 'emerging') AS new
FROM alerts
GROUP BY day
ORDER BY day DESC
LIMIT $days;
