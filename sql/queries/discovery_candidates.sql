-- Every distinct paragraph text with a vector for $model: discovery clusters all of them, those codebook narratives
-- claimed too (a discovered narrative is then a specific claim inside a codebook frame: refresh_narrative_parents.sql).
SELECT e.text_hash, any_value(p.text) AS text, any_value(e.embedding) AS embedding, any_value(p.language) AS language
FROM paragraphs AS p
JOIN paragraph_embeddings AS e ON e.text_hash = p.text_hash AND e.model = $model
GROUP BY e.text_hash
ORDER BY e.text_hash;
