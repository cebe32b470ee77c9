WITH last AS (SELECT coalesce($end::DATE, max(partition_date)) AS d FROM paragraphs)
SELECT al.day, al.kind, n.label, al.paragraphs, al.message
FROM alerts AS al JOIN narratives AS n USING (narrative_id), last
WHERE al.day > last.d - ($days::INTEGER) AND al.day <= last.d
ORDER BY al.day;
