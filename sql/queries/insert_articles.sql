-- Insert staged articles that are not in the database yet (content-based ids: re-ingesting adds nothing).
INSERT INTO articles BY NAME
SELECT s.*
FROM staged_articles AS s
ANTI JOIN articles AS a USING (article_id);
