-- Recompute all alerts from narrative_daily.
--   spike:    paragraphs >= $min_volume, the narrative appeared at least once in the 28 days before, and
--             share >= 2 x its mean share over those 28 days and z = (share - mean) / max(std, 0.01) >= $z
--             (a first appearance is not a spike: it is reported as emerging);
--   emerging: the first day a narrative reaches $min_volume paragraphs in one day, within 7 days of first_seen.
-- A discovered narrative inside a codebook frame names the frame too (parent_narrative_id, "… (under <frame>)").
DELETE FROM alerts;
INSERT INTO alerts BY NAME
WITH d AS (
    SELECT day, narrative_id, label || coalesce(' (under ' || parent_label || ')', '') AS label, parent_narrative_id,
           paragraphs, coalesce(share, 0) AS share,
           avg(coalesce(share, 0)) OVER w AS baseline,
           coalesce(stddev_pop(coalesce(share, 0)) OVER w, 0) AS sd,
           count(*) OVER w AS history,
           sum(paragraphs) OVER w AS prior_paragraphs
    FROM narrative_daily
    LEFT JOIN (SELECT narrative_id AS parent_narrative_id, label AS parent_label FROM narratives) USING (parent_narrative_id)
    WINDOW w AS (PARTITION BY narrative_id ORDER BY day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)
),
spikes AS (
    SELECT 'spike:' || narrative_id || ':' || day AS alert_id, day, narrative_id, parent_narrative_id, 'spike' AS kind, paragraphs, share,
           baseline AS baseline_share, (share - baseline) / greatest(sd, 0.01) AS z_score,
           printf('%s spiked on %s: %d paragraphs, %.0f%% of the day (28-day baseline %.1f%%)',
                  label, day, paragraphs, 100 * share, 100 * baseline) AS message
    FROM d
    WHERE paragraphs >= $min_volume AND history >= 7 AND prior_paragraphs > 0 AND share >= 2 * baseline
      AND (share - baseline) / greatest(sd, 0.01) >= $z
),
firsts AS (
    SELECT narrative_id, min(day) FILTER (WHERE paragraphs > 0) AS first_day FROM narrative_daily GROUP BY ALL
),
emerging AS (
    SELECT 'emerging:' || d.narrative_id || ':' || min(d.day) AS alert_id, min(d.day) AS day, d.narrative_id,
           any_value(d.parent_narrative_id) AS parent_narrative_id, 'emerging' AS kind,
           arg_min(d.paragraphs, d.day) AS paragraphs, arg_min(d.share, d.day) AS share, NULL AS baseline_share, NULL AS z_score,
           printf('new narrative %s reached %d paragraphs on %s, %d days after it first appeared',
                  any_value(d.label), arg_min(d.paragraphs, d.day), min(d.day), datediff('day', any_value(f.first_day), min(d.day))) AS message
    FROM d JOIN firsts AS f USING (narrative_id)
    WHERE d.paragraphs >= $min_volume AND d.day <= f.first_day + INTERVAL 7 DAY
    GROUP BY d.narrative_id
)
SELECT *, $now AS created_at FROM spikes
UNION ALL
SELECT *, $now AS created_at FROM emerging;
