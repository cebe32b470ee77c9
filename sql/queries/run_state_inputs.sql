-- What a complete run depends on, from the database side: how many articles there are and the latest ingest.
SELECT count(*), max(ingested_at) FROM articles;
