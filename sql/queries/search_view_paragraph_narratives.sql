-- DuckLake keyword search: the in-memory scope sees the lake's assignments (narrative_tracker/search.py).
CREATE OR REPLACE VIEW memory.main.paragraph_narratives AS FROM lake.main.paragraph_narratives;
