-- Rebuild the derived daily counts (narrative_daily_counts, daily_paragraph_counts) from the base tables,
-- for the days $start..$end (both NULL: every day). Run inside the transaction that changed paragraphs or
-- paragraph_narratives.
DELETE FROM narrative_daily_counts
WHERE $start IS NULL OR day BETWEEN $start AND $end;
INSERT INTO narrative_daily_counts
SELECT pn.partition_date AS day, pn.narrative_id,
       count(DISTINCT pn.paragraph_id) AS paragraphs,
       count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'asserts') AS asserted,
       count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'reports') AS reported,
       count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'refutes') AS refuted,
       count(DISTINCT p.article_id) AS articles,
       count(DISTINCT a.outlet) AS outlets,
       count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance IS NULL) AS unknown_stance
FROM paragraph_narratives AS pn
JOIN paragraphs AS p USING (paragraph_id)
JOIN articles AS a USING (article_id)
WHERE $start IS NULL OR pn.partition_date BETWEEN $start AND $end
GROUP BY ALL;
DELETE FROM daily_paragraph_counts
WHERE $start IS NULL OR day BETWEEN $start AND $end;
INSERT INTO daily_paragraph_counts
SELECT partition_date AS day, count(*) AS paragraphs
FROM paragraphs
WHERE $start IS NULL OR partition_date BETWEEN $start AND $end
GROUP BY ALL;
