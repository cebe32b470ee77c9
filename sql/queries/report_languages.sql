-- Paragraphs per narrative and language in the week (the report's "by language" table); $language as elsewhere.
SELECT pn.narrative_id, coalesce(p.language, '?') AS language, count(DISTINCT pn.paragraph_id) AS paragraphs
FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id)
WHERE pn.partition_date BETWEEN $start AND $end AND list_contains($ids, pn.narrative_id)
  AND ($language IS NULL OR p.language = $language)
GROUP BY ALL
ORDER BY pn.narrative_id, paragraphs DESC, language;
