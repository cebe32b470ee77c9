-- Per publication day of $start..$end: articles, outlets, paragraphs, and articles that gave no paragraph
-- (the `paragraphs` asset's metadata of each daily partition). Days without articles are absent.
WITH a AS (
    SELECT partition_date AS day, count(*) AS articles, count(DISTINCT outlet) AS outlets
    FROM articles WHERE partition_date BETWEEN $start AND $end GROUP BY ALL
), p AS (
    SELECT partition_date AS day, count(*) AS paragraphs, count(DISTINCT article_id) AS split_articles
    FROM paragraphs WHERE partition_date BETWEEN $start AND $end GROUP BY ALL
)
SELECT coalesce(a.day, p.day) AS day, coalesce(a.articles, 0) AS articles, coalesce(a.outlets, 0) AS outlets,
       coalesce(p.paragraphs, 0) AS paragraphs,
       coalesce(a.articles, 0) - coalesce(p.split_articles, 0) AS articles_without_paragraphs
FROM a FULL JOIN p ON a.day = p.day
ORDER BY 1;
