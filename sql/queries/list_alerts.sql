-- Alerts newest first, optionally from day $since on, at most $limit rows (`narratives alerts`).
SELECT day, kind, narrative_id, message
FROM alerts
WHERE $since IS NULL OR day >= $since::DATE
ORDER BY day DESC, kind, narrative_id
LIMIT $limit;
