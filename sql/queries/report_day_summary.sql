-- The report day's narratives: codebook and discovered narratives with paragraphs on $day (and how many assert
-- them), plus the day's alerts (spiking and new narratives), for the daily_report asset's metadata.
SELECT n.narrative_id, n.label, n.origin,
       count(*) AS paragraphs,
       count(*) FILTER (WHERE pn.stance = 'asserts') AS asserting,
       any_value(al.kind) AS alert
FROM paragraph_narratives pn
JOIN narratives n USING (narrative_id)
LEFT JOIN alerts al ON al.narrative_id = pn.narrative_id AND al.day = $day
WHERE pn.partition_date = $day
GROUP BY ALL
ORDER BY paragraphs DESC, n.narrative_id
LIMIT 15;
