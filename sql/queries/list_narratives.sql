-- Every narrative with its status, size and codebook frame (`narratives narrative list`).
SELECT narrative_id, origin, coalesce(status, 'active') AS status, paragraphs, label, array_to_string(terms, ', ') AS terms,
       parent_narrative_id
FROM narratives
ORDER BY origin, paragraphs DESC, narrative_id;
