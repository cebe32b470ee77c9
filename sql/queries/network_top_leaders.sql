-- The outlets that led the most narratives (outlet_roles), then the most followed.
SELECT outlet, narratives, originated, led, amplified, followed, round(leader_score, 3) AS leader_score,
       round(amplifier_score, 3) AS amplifier_score, followers, sources, role
FROM outlet_roles
ORDER BY led DESC, followers DESC, outlet
LIMIT $limit;
