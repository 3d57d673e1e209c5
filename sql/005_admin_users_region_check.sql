-- Kabar schema, migration 005: a supervisor always has a region.
--
-- The pages, exports and API limit a supervisor to region_code and below. A supervisor row
-- without one would read as every region, so the database refuses it (kabard also refuses such
-- a login, in case this constraint is ever switched off).
ALTER TABLE admin_users
    ADD CONSTRAINT ck_admin_users_supervisor_region
    CHECK (role = 'admin' OR region_code IS NOT NULL);
