-- Staged article ids the database does not hold yet.
SELECT s.article_id
FROM staged_articles AS s
ANTI JOIN articles AS a USING (article_id);
