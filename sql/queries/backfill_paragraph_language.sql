-- Migration (schema 3 -> 4): paragraphs stored before paragraphs.language existed take their article's
-- detected language; the paragraphs stage replaces it with the paragraph's own when it next rewrites the day.
UPDATE paragraphs AS p
SET language = a.language
FROM articles AS a
WHERE a.article_id = p.article_id AND p.language IS NULL;
