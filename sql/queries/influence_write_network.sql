-- The edges (staged_edges: source, target, gain, rank) with their statistics counted from every cascade, and
-- every outlet's roles. An edge that explains no adoption any more stays with support 0 until a full rebuild.
DELETE FROM outlet_influence;
INSERT INTO outlet_influence BY NAME
WITH support AS (
    SELECT parent_outlet AS source, outlet AS target, count(*) AS support, median(parent_lag_days) AS median_lag_days
    FROM narrative_cascades
    WHERE parent_outlet IS NOT NULL
    GROUP BY ALL
),
carried AS (
    SELECT outlet AS source, count(*) AS narratives FROM narrative_cascades GROUP BY ALL
)
SELECT
    e.source,
    e.target,
    coalesce(s.support / c.narratives, 0) AS weight,
    coalesce(s.support, 0) AS support,
    s.median_lag_days,
    e.gain,
    e.rank,
    $now AS computed_at
FROM staged_edges AS e
LEFT JOIN support AS s USING (source, target)
LEFT JOIN carried AS c USING (source);
DELETE FROM outlet_roles;
INSERT INTO outlet_roles BY NAME
WITH per AS (
    SELECT
        outlet,
        count(*) AS narratives,
        count(*) FILTER (WHERE lag_days = 0) AS originated,
        count(*) FILTER (WHERE role = 'leader') AS led,
        count(*) FILTER (WHERE role = 'amplifier') AS amplified,
        count(*) FILTER (WHERE role = 'follower') AS followed
    FROM narrative_cascades
    GROUP BY ALL
),
out_degree AS (
    SELECT source AS outlet, count(*) AS followers FROM outlet_influence GROUP BY ALL
),
in_degree AS (
    SELECT target AS outlet, count(*) AS sources FROM outlet_influence GROUP BY ALL
)
SELECT
    outlet,
    narratives,
    originated,
    led,
    amplified,
    followed,
    led / narratives AS leader_score,
    amplified / narratives AS amplifier_score,
    followed / narratives AS follower_score,
    coalesce(o.followers, 0) AS followers,
    coalesce(i.sources, 0) AS sources,
    CASE
        WHEN greatest(led, amplified, followed) = 0 THEN 'independent'
        WHEN led >= amplified AND led >= followed THEN 'leader'
        WHEN amplified >= followed THEN 'amplifier'
        ELSE 'follower'
    END AS role,
    $now AS computed_at
FROM per
LEFT JOIN out_degree AS o USING (outlet)
LEFT JOIN in_degree AS i USING (outlet);
