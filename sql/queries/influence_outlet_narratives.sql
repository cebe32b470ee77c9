-- Narratives each outlet carried at the last influence update.
SELECT outlet, narratives FROM outlet_roles;
