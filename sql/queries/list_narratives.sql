-- Every narrative with its status and size (`narratives narrative list`).
SELECT narrative_id, origin, coalesce(status, 'active') AS status, paragraphs, label, array_to_string(terms, ', ') AS terms
FROM narratives
ORDER BY origin, paragraphs DESC, narrative_id;
