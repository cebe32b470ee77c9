-- Paragraphs per outlet and narrative over the $days days ending $end; the busiest narratives and outlets.
WITH last AS (SELECT coalesce($end::DATE, max(partition_date)) AS d FROM paragraphs),
rows AS (
    SELECT pn.narrative_id, n.label, coalesce(a.outlet, '(unknown)') AS outlet, pn.paragraph_id, pn.stance
    FROM paragraph_narratives AS pn
    JOIN narratives AS n USING (narrative_id)
    JOIN paragraphs AS p USING (paragraph_id)
    JOIN articles AS a USING (article_id), last
    WHERE pn.partition_date > last.d - ($days::INTEGER) AND pn.partition_date <= last.d
),
top_n AS (SELECT narrative_id FROM rows GROUP BY ALL ORDER BY count(*) DESC, narrative_id LIMIT $narratives),
top_o AS (SELECT outlet FROM rows GROUP BY ALL ORDER BY count(*) DESC, outlet LIMIT $outlets)
SELECT label, outlet, count(*) AS paragraphs, count(*) FILTER (WHERE stance = 'asserts') AS asserted
FROM rows
WHERE narrative_id IN (SELECT narrative_id FROM top_n) AND outlet IN (SELECT outlet FROM top_o)
GROUP BY ALL;
