-- Every article carrying reference tags (e.g. EUvsDisinfo's fact-checker keywords), published on $since or later and
-- before $until (NULL: no bound), with its narratives at both levels: the discovered narrative most of its paragraphs
-- carry, and its codebook narrative (the highest-scoring one), NULL where it has none; and its paragraphs' text hashes
-- (benchmarks/discovery_tuning.py re-clusters them). For agreement measures (evaluate.py).
WITH articles_in AS (
    SELECT article_id, tags FROM articles
    WHERE len(tags) > 0 AND ($since IS NULL OR coalesce(published_date, partition_date) >= $since::DATE)
      AND ($until IS NULL OR coalesce(published_date, partition_date) < $until::DATE)
),
hashes AS (
    SELECT article_id, list(text_hash ORDER BY position) AS text_hashes FROM paragraphs GROUP BY article_id
),
discovered AS (
    SELECT article_id, arg_max(narrative_id, (paragraphs, narrative_id)) AS narrative_id FROM (
        SELECT p.article_id, pn.narrative_id, count(*) AS paragraphs
        FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id)
        WHERE pn.method = 'discovered'
        GROUP BY ALL
    ) GROUP BY article_id
),
codebook AS (
    SELECT p.article_id, arg_max(pn.narrative_id, (pn.score, pn.narrative_id)) AS narrative_id
    FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id)
    WHERE pn.method = 'codebook'
    GROUP BY p.article_id
)
SELECT a.article_id, d.narrative_id AS discovered_id, c.narrative_id AS codebook_id, a.tags, h.text_hashes
FROM articles_in AS a
LEFT JOIN hashes AS h USING (article_id)
LEFT JOIN discovered AS d USING (article_id)
LEFT JOIN codebook AS c USING (article_id)
ORDER BY a.article_id;
