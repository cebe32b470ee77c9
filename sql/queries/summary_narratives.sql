-- Codebook narratives first, then the largest discovered ones. Evidence: an asserting paragraph before any other,
-- never a question when something else exists, body text before cross-headings, then the highest score.
SELECT narrative_id, origin, label, parent_narrative_id, paragraphs, articles, outlets,
       best.text AS evidence, best.outlet AS evidence_outlet, best.day AS evidence_day
FROM (
    SELECT
        n.narrative_id,
        n.origin,
        n.label,
        n.parent_narrative_id,
        count(DISTINCT pn.paragraph_id) AS paragraphs,
        count(DISTINCT p.article_id) AS articles,
        count(DISTINCT a.outlet) AS outlets,
        arg_max({'text': p.text, 'outlet': a.outlet, 'day': pn.partition_date},
                (CASE WHEN pn.stance = 'asserts' THEN 2 WHEN coalesce(pn.stance_cue, '') <> 'question' THEN 1 ELSE 0 END) * 10
                + CAST(p.kind = 'body' AS INTEGER) * 5 + pn.score) AS best
    FROM narratives AS n
    LEFT JOIN paragraph_narratives AS pn USING (narrative_id)
    LEFT JOIN paragraphs AS p USING (paragraph_id)
    LEFT JOIN articles AS a USING (article_id)
    GROUP BY ALL
)
ORDER BY origin, paragraphs DESC, narrative_id
LIMIT $limit;
