DELETE FROM paragraph_narratives
WHERE method = $method AND partition_date BETWEEN $start AND $end;
