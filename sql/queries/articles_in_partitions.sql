-- Article bodies of the partitions in [start, end], for the paragraphs stage.
SELECT article_id, partition_date, body, language
FROM articles
WHERE partition_date BETWEEN $start AND $end
ORDER BY partition_date, article_id;
