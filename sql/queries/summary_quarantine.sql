SELECT reason, count(*) AS records, any_value(source_path) AS example_source
FROM quarantine
GROUP BY reason
ORDER BY records DESC;
