-- The near misses of the influence network: edges outside it and an upper bound of their gain.
SELECT source, target, bound FROM influence_candidates;
