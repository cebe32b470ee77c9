-- Articles of the given files that the paragraphs stage has not processed yet (e.g. a run killed after
-- ingest): the after_ingest sensor starts a downstream run for them even when the ingest added nothing new.
SELECT count(*)
FROM articles AS a
WHERE list_contains($shas, a.source_sha256)
  AND NOT EXISTS (SELECT 1 FROM paragraphs AS p WHERE p.article_id = a.article_id);
