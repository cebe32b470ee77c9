INSERT INTO paragraph_narratives BY NAME
SELECT * FROM staged_assignments;
