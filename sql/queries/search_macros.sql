-- Macros for SQL users (created with the search index; run `LOAD fts;` first in a new session):
--   SELECT * FROM search_paragraphs('colour revolution', 10);   -- BM25 keyword search
--   SELECT * FROM similar_paragraphs('<paragraph_id>', 10);      -- nearest paragraphs by embedding
CREATE OR REPLACE MACRO search_paragraphs(query, n) AS TABLE
    SELECT fts_main_paragraphs.match_bm25(p.paragraph_id, query) AS score, p.partition_date AS day,
           a.outlet, a.title, p.paragraph_id, p.text
    FROM paragraphs AS p JOIN articles AS a USING (article_id)
    WHERE score IS NOT NULL
    ORDER BY score DESC
    LIMIT n;
CREATE OR REPLACE MACRO similar_paragraphs(pid, n) AS TABLE
    WITH q AS (
        SELECT e.embedding::FLOAT[] AS v, e.model
        FROM paragraphs AS p JOIN paragraph_embeddings AS e USING (text_hash)
        WHERE p.paragraph_id = pid
        LIMIT 1
    )
    SELECT list_cosine_similarity(e.embedding::FLOAT[], q.v) AS score, p.partition_date AS day, a.outlet, p.paragraph_id, p.text
    FROM q
    JOIN paragraph_embeddings AS e ON e.model = q.model
    JOIN paragraphs AS p USING (text_hash)
    JOIN articles AS a USING (article_id)
    WHERE p.paragraph_id <> pid
    ORDER BY score DESC
    LIMIT n;
