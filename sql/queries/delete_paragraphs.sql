-- Remove the paragraphs of the partitions in [start, end] before they are rebuilt.
DELETE FROM paragraphs
WHERE partition_date BETWEEN $start AND $end;
