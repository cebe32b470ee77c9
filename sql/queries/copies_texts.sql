-- The text of each staged hash (staged_hashes), as paragraphs hold it.
SELECT p.text_hash, any_value(p.text) AS text
FROM paragraphs AS p
WHERE p.text_hash IN (SELECT text_hash FROM staged_hashes)
GROUP BY p.text_hash;
