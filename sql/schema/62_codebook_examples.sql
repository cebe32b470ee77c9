-- codebook_examples: the codebook's example statements and their embeddings ({dim} = model size, filled in by db.py).
CREATE TABLE IF NOT EXISTS codebook_examples (
    narrative_id  VARCHAR NOT NULL,       -- joins narratives
    position      INTEGER NOT NULL,       -- order in the codebook file
    text          VARCHAR NOT NULL,       -- the example statement
    model         VARCHAR NOT NULL,       -- embedding model
    embedding     FLOAT[{dim}] NOT NULL,  -- unit-length vector
    PRIMARY KEY (narrative_id, position, model)
);
