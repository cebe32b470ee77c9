-- Articles per publication day between $start and $end (weights when days are split between workers).
SELECT partition_date, count(*) FROM articles WHERE partition_date BETWEEN $start AND $end GROUP BY ALL;
