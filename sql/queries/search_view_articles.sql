-- DuckLake keyword search: the in-memory scope sees the lake's articles (narrative_tracker/search.py).
CREATE OR REPLACE VIEW memory.main.articles AS FROM lake.main.articles;
