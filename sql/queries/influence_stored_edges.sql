-- The edges of the influence network in the order they were chosen.
SELECT source, target, gain, rank FROM outlet_influence ORDER BY rank;
