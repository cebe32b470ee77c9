-- paragraph_embeddings: one L2-normalised vector per distinct paragraph text and model.
-- {dim} is replaced by the model's embedding size (an integer checked in db.py) when the table is first created.
CREATE TABLE IF NOT EXISTS paragraph_embeddings (
    text_hash    VARCHAR NOT NULL,     -- joins paragraphs.text_hash
    model        VARCHAR NOT NULL,     -- model name (e.g. all-MiniLM-L6-v2) or configured local path
    embedding    FLOAT[{dim}] NOT NULL,-- unit-length vector: dot product = cosine similarity
    embedded_at  TIMESTAMP NOT NULL,   -- UTC
    PRIMARY KEY (text_hash, model)
);
