-- The first and last publication day the database holds (NULL, NULL when empty).
SELECT min(partition_date), max(partition_date) FROM articles;
