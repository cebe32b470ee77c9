-- The first $per_day paragraphs of each publication day of $start..$end (outlet, text), for the day's preview.
SELECT p.partition_date AS day, a.outlet, p.text
FROM paragraphs p JOIN articles a USING (article_id)
WHERE p.partition_date BETWEEN $start AND $end
QUALIFY row_number() OVER (PARTITION BY p.partition_date ORDER BY a.article_id, p.position) <= $per_day
ORDER BY day, a.article_id, p.position;
