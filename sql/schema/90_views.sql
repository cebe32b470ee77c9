-- Trend views: plain SQL over paragraph_narratives, recomputed on every query; narrative_daily reads the
-- per-day counts the pipeline keeps in narrative_daily_counts / daily_paragraph_counts (65_daily_counts.sql).
-- `paragraphs` counts every mention; `asserted` only paragraphs that push the narrative in their own voice;
-- `unknown_stance` the paragraphs whose stance could not be computed (never counted as asserted).

-- narrative_daily: one row per calendar day (first to last day with paragraphs) and narrative.
CREATE OR REPLACE VIEW narrative_daily AS
WITH bounds AS (
    SELECT min(day) AS first_day, max(day) AS last_day FROM daily_paragraph_counts
),
days AS (
    SELECT CAST(unnest(range(first_day, last_day + INTERVAL 1 DAY, INTERVAL 1 DAY)) AS DATE) AS day
    FROM bounds WHERE first_day IS NOT NULL
),
totals AS (
    SELECT day, paragraphs AS day_paragraphs FROM daily_paragraph_counts
),
counts AS (
    SELECT * FROM narrative_daily_counts
),
grid AS (
    SELECT d.day, n.narrative_id, n.label, n.origin, n.parent_narrative_id FROM days AS d CROSS JOIN narratives AS n
)
SELECT
    g.day,
    g.narrative_id,
    g.label,
    g.origin,
    g.parent_narrative_id,
    coalesce(c.paragraphs, 0) AS paragraphs,
    coalesce(c.asserted, 0) AS asserted,
    coalesce(c.reported, 0) AS reported,
    coalesce(c.refuted, 0) AS refuted,
    coalesce(c.unknown_stance, 0) AS unknown_stance,
    coalesce(c.articles, 0) AS articles,
    coalesce(c.outlets, 0) AS outlets,
    coalesce(t.day_paragraphs, 0) AS day_paragraphs,
    coalesce(c.paragraphs, 0) / nullif(t.day_paragraphs, 0) AS share,
    coalesce(c.asserted, 0) / nullif(t.day_paragraphs, 0) AS asserted_share,
    avg(coalesce(c.paragraphs, 0)) OVER w AS paragraphs_7d_avg,
    avg(coalesce(c.asserted, 0)) OVER w AS asserted_7d_avg,
    sum(coalesce(c.paragraphs, 0)) OVER w / nullif(sum(coalesce(t.day_paragraphs, 0)) OVER w, 0) AS share_7d
FROM grid AS g
LEFT JOIN counts AS c USING (day, narrative_id)
LEFT JOIN totals AS t USING (day)
WINDOW w AS (PARTITION BY g.narrative_id ORDER BY g.day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW);

-- narrative_levels: the two levels of narrative. One row per discovered narrative with its frame: the codebook
-- narrative most of its member texts carry (NULL: a claim outside every codebook frame), and one row per codebook
-- narrative as a frame of its own (level 'codebook'). Discovery clusters every paragraph, so a paragraph can carry a
-- codebook narrative and a discovered one at once.
CREATE OR REPLACE VIEW narrative_levels AS
SELECT
    coalesce(c.parent_narrative_id, CASE WHEN c.origin = 'codebook' THEN c.narrative_id END) AS frame_id,
    f.label AS frame_label,
    CASE WHEN c.origin = 'codebook' THEN 'codebook' ELSE 'discovered' END AS level,
    c.narrative_id,
    c.label,
    c.claim_label,
    coalesce(c.status, 'active') AS status,
    c.paragraphs,
    c.parent_share
FROM narratives AS c
LEFT JOIN narratives AS f ON f.narrative_id = coalesce(c.parent_narrative_id, CASE WHEN c.origin = 'codebook' THEN c.narrative_id END);

-- narrative_outlets: who carries each narrative, how much, and from when to when.
CREATE OR REPLACE VIEW narrative_outlets AS
SELECT
    pn.narrative_id,
    n.label,
    n.parent_narrative_id,
    coalesce(a.outlet, '(unknown)') AS outlet,
    count(DISTINCT pn.paragraph_id) AS paragraphs,
    count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'asserts') AS asserted,
    count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance IS NULL) AS unknown_stance,
    count(DISTINCT a.article_id) AS articles,
    min(pn.partition_date) AS first_seen,
    max(pn.partition_date) AS last_seen
FROM paragraph_narratives AS pn
JOIN narratives AS n USING (narrative_id)
JOIN paragraphs AS p USING (paragraph_id)
JOIN articles AS a USING (article_id)
GROUP BY ALL;

-- paragraph_copies: every paragraph of a copy group that spans two or more outlets. A group is the paragraphs
-- whose text is the same once lower-cased and stripped of punctuation and spacing (exact copies), joined by the
-- near-duplicates text_copy_groups links (edited copies: trimmed, reordered, boilerplate added; syndication.py).
-- The group's earliest paragraph (day, then ingestion) is the source; a paragraph of another outlet is a copy.
CREATE OR REPLACE VIEW paragraph_copies AS
WITH keyed AS (
    SELECT
        p.paragraph_id,
        p.article_id,
        p.partition_date,
        coalesce(a.outlet, '(unknown)') AS outlet,
        a.ingested_at,
        md5(regexp_replace(lower(p.text), '[^[:alnum:]]+', '', 'g')) AS near_hash,
        g.group_id
    FROM paragraphs AS p
    JOIN articles AS a USING (article_id)
    LEFT JOIN text_copy_groups AS g USING (text_hash)
),
grouped AS (
    SELECT *, coalesce(group_id, near_hash) AS copy_group FROM keyed
),
spread AS (
    SELECT copy_group FROM grouped GROUP BY copy_group HAVING count(DISTINCT outlet) >= 2
),
sourced AS (
    SELECT
        g.*,
        first_value(g.paragraph_id) OVER w AS source_paragraph_id,
        first_value(g.outlet) OVER w AS source_outlet,
        first_value(g.partition_date) OVER w AS source_day,
        first_value(g.near_hash) OVER w AS source_near_hash
    FROM grouped AS g
    SEMI JOIN spread USING (copy_group)
    WINDOW w AS (PARTITION BY g.copy_group ORDER BY g.partition_date, g.ingested_at, g.article_id, g.paragraph_id)
)
SELECT
    paragraph_id,
    article_id,
    copy_group,
    outlet,
    partition_date AS day,
    source_paragraph_id,
    source_outlet,
    source_day,
    source_near_hash,
    outlet <> source_outlet AS copied,
    near_hash = source_near_hash AS exact
FROM sourced;

-- paragraph_syndication: one row per copy group of paragraph_copies (the same paragraph, copied as is or
-- edited, in articles of two or more outlets): copy-paste syndication, as opposed to independent repetition.
CREATE OR REPLACE VIEW paragraph_syndication AS
SELECT
    any_value(c.source_near_hash) AS near_hash,
    any_value(s.text) AS text,
    count(DISTINCT c.article_id) AS copies,
    count(DISTINCT c.outlet) AS outlets,
    any_value(c.source_outlet) AS first_outlet,
    min(c.day) AS first_day,
    max(c.day) AS last_day,
    list(DISTINCT c.outlet ORDER BY c.outlet) AS outlet_list,
    count(DISTINCT c.paragraph_id) FILTER (WHERE c.copied AND NOT c.exact) AS edited_copies,
    c.copy_group
FROM paragraph_copies AS c
JOIN paragraphs AS s ON s.paragraph_id = c.source_paragraph_id
GROUP BY c.copy_group;

-- outlet_copies: who copies whom — per source outlet and copying outlet, the paragraphs copied (exact or edited).
CREATE OR REPLACE VIEW outlet_copies AS
SELECT
    source_outlet,
    outlet,
    count(DISTINCT paragraph_id) AS copied_paragraphs,
    count(DISTINCT paragraph_id) FILTER (WHERE NOT exact) AS edited_paragraphs,
    min(day) AS first_day,
    max(day) AS last_day
FROM paragraph_copies
WHERE copied
GROUP BY ALL;

-- narrative_amplification: for each narrative and outlet, when the outlet picked it up relative to the
-- narrative's first appearance, and how much of it was copied text (syndication, exact or edited) vs its own wording.
CREATE OR REPLACE VIEW narrative_amplification AS
WITH first_day AS (
    SELECT narrative_id, min(partition_date) AS narrative_first_seen FROM paragraph_narratives GROUP BY ALL
),
rows AS (
    SELECT pn.narrative_id, coalesce(a.outlet, '(unknown)') AS outlet, pn.partition_date, pn.paragraph_id,
           pn.stance = 'asserts' AS asserted,
           coalesce(c.copied, false) AS copied
    FROM paragraph_narratives AS pn
    JOIN paragraphs AS p USING (paragraph_id)
    JOIN articles AS a USING (article_id)
    LEFT JOIN paragraph_copies AS c USING (paragraph_id)
)
SELECT
    r.narrative_id,
    r.outlet,
    min(r.partition_date) AS first_seen,
    f.narrative_first_seen,
    datediff('day', f.narrative_first_seen, min(r.partition_date)) AS lag_days,
    min(r.partition_date) = f.narrative_first_seen AS originator,
    count(DISTINCT r.paragraph_id) AS paragraphs,
    count(DISTINCT r.paragraph_id) FILTER (WHERE r.copied) AS copied_paragraphs,
    count(DISTINCT r.paragraph_id) FILTER (WHERE r.asserted) AS asserted_paragraphs,
    min(r.partition_date) FILTER (WHERE r.asserted) AS first_asserted
FROM rows AS r
JOIN first_day AS f USING (narrative_id)
GROUP BY r.narrative_id, r.outlet, f.narrative_first_seen;

-- narrative_first_seen: when, where and in which article each narrative appeared first; independent_outlets
-- counts the outlets that carried it in a paragraph that is not a copy of another outlet's (paragraph_copies).
CREATE OR REPLACE VIEW narrative_first_seen AS
SELECT
    pn.narrative_id,
    n.label,
    n.origin,
    n.parent_narrative_id,
    min(pn.partition_date) AS first_seen,
    arg_min(a.outlet, (pn.partition_date, a.ingested_at, a.article_id)) AS first_outlet,
    arg_min(a.article_id, (pn.partition_date, a.ingested_at, a.article_id)) AS first_article_id,
    arg_min(a.title, (pn.partition_date, a.ingested_at, a.article_id)) AS first_title,
    arg_min(p.text, (pn.partition_date, a.ingested_at, a.article_id, p.position)) AS first_paragraph,
    count(DISTINCT pn.paragraph_id) AS paragraphs,
    count(DISTINCT a.article_id) AS articles,
    count(DISTINCT a.outlet) AS outlets,
    count(DISTINCT a.outlet) FILTER (WHERE NOT coalesce(c.copied, false)) AS independent_outlets
FROM paragraph_narratives AS pn
JOIN narratives AS n USING (narrative_id)
JOIN paragraphs AS p USING (paragraph_id)
JOIN articles AS a USING (article_id)
LEFT JOIN paragraph_copies AS c USING (paragraph_id)
GROUP BY pn.narrative_id, n.label, n.origin, n.parent_narrative_id;

-- narrative_languages: each narrative broken down by the language of the paragraphs carrying it
-- (paragraphs.language, ISO 639-1; '(unknown)' when too short to tell).
CREATE OR REPLACE VIEW narrative_languages AS
SELECT
    pn.narrative_id,
    n.label,
    n.origin,
    n.parent_narrative_id,
    coalesce(p.language, '(unknown)') AS language,
    count(DISTINCT pn.paragraph_id) AS paragraphs,
    count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'asserts') AS asserted,
    count(DISTINCT p.article_id) AS articles,
    count(DISTINCT a.outlet) AS outlets,
    min(pn.partition_date) AS first_seen,
    max(pn.partition_date) AS last_seen
FROM paragraph_narratives AS pn
JOIN narratives AS n USING (narrative_id)
JOIN paragraphs AS p USING (paragraph_id)
JOIN articles AS a USING (article_id)
GROUP BY ALL;

-- narrative_daily_languages: paragraphs per day, narrative and language (days with none are absent), with
-- the day's paragraphs in that language, so a share can be read per language.
CREATE OR REPLACE VIEW narrative_daily_languages AS
WITH totals AS (
    SELECT partition_date AS day, coalesce(language, '(unknown)') AS language, count(*) AS day_paragraphs
    FROM paragraphs GROUP BY ALL
)
SELECT
    pn.partition_date AS day,
    pn.narrative_id,
    coalesce(p.language, '(unknown)') AS language,
    count(DISTINCT pn.paragraph_id) AS paragraphs,
    count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'asserts') AS asserted,
    any_value(t.day_paragraphs) AS day_paragraphs,
    count(DISTINCT pn.paragraph_id) / any_value(t.day_paragraphs) AS share
FROM paragraph_narratives AS pn
JOIN paragraphs AS p USING (paragraph_id)
JOIN totals AS t ON t.day = pn.partition_date AND t.language = coalesce(p.language, '(unknown)')
GROUP BY ALL;
