-- Codebook narratives first, then the largest discovered ones. Evidence: its most confident asserting paragraph
-- (pair model: related x stance probability); a narrative no paragraph asserts shows none (NULL), never a report,
-- question or debunk as if it pushed the claim. unknown_outlet: some of its paragraphs come from articles whose
-- outlet the source did not name (shown as '+ unnamed', never as 0 outlets). Discovered narratives (no stance): the member closest to the centre.
SELECT narrative_id, origin, label, parent_narrative_id, paragraphs, articles, outlets, unknown_outlet,
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
        coalesce(bool_or(pn.paragraph_id IS NOT NULL AND a.outlet IS NULL), false) AS unknown_outlet,
        arg_max({'text': p.text, 'outlet': a.outlet, 'day': pn.partition_date},
                CAST(p.kind = 'body' AS INTEGER) * 5 + coalesce(pn.confidence, pn.score) * coalesce(pn.stance_confidence, 1.0))
            FILTER (WHERE (pn.stance = 'asserts' OR pn.method = 'discovered')
                    AND pn.stance_cue IS DISTINCT FROM 'question') AS best
    FROM narratives AS n
    LEFT JOIN paragraph_narratives AS pn USING (narrative_id)
    LEFT JOIN paragraphs AS p USING (paragraph_id)
    LEFT JOIN articles AS a USING (article_id)
    GROUP BY ALL
)
ORDER BY origin, paragraphs DESC, narrative_id
LIMIT $limit;
