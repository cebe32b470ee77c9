-- One line per article: when, who, what, and how much text it gave (newest first).
SELECT
    a.published_date,
    a.date_source,
    a.partition_date,
    coalesce(a.outlet, '(unknown)') AS outlet,
    a.title,
    a.language,
    count(p.paragraph_id) AS paragraphs
FROM articles AS a
LEFT JOIN paragraphs AS p USING (article_id)
GROUP BY ALL
ORDER BY a.partition_date DESC, outlet, a.title
LIMIT $limit;
