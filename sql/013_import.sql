-- Kabar schema, migration 013: the keys an import from a district registry needs (issue 14).
--
-- `kabard import` is idempotent on the registry's own ids: a KPM by her PKH number (already
-- UNIQUE, uq_kpm_pkh_number), a training by its code (already UNIQUE, uq_trainings_code), an
-- assistant by her registry id and a KUBE by its code, which this adds. Both are NULL for rows
-- made before, or by hand, and a UNIQUE key allows many NULLs, so existing rows stay valid.
--
-- Online on big tables: columns are added in place (INSTANT) or the statement fails rather than
-- lock the table; indexes are added online (NOCOPY). IF NOT EXISTS makes a re-run a no-op.

ALTER TABLE assistants
    ADD COLUMN IF NOT EXISTS registry_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci
        NULL COMMENT 'the district registry id of the assistant, the key of an import',
    ALGORITHM=INSTANT;

ALTER TABLE assistants
    ADD UNIQUE KEY IF NOT EXISTS uq_assistants_registry_id (registry_id),
    ALGORITHM=NOCOPY, LOCK=NONE;

ALTER TABLE kube_groups
    ADD COLUMN IF NOT EXISTS code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci
        NULL COMMENT 'the registry code of the group, the key of an import',
    ALGORITHM=INSTANT;

ALTER TABLE kube_groups
    ADD UNIQUE KEY IF NOT EXISTS uq_kube_groups_code (code),
    ALGORITHM=NOCOPY, LOCK=NONE;
