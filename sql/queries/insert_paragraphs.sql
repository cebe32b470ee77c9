INSERT INTO paragraphs BY NAME
SELECT * FROM staged_paragraphs;
