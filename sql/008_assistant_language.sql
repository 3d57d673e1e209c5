-- Kabar schema, migration 008: the language of an assistant's own USSD menu (issue 12).
--
-- An assistant who dials the USSD code gets her menu in Bahasa Indonesia or English and can
-- switch it from the menu; like kpm.lang, the choice is remembered here.
--
-- Online on a big table: the column is added in place without a copy (INSTANT), and if the
-- server cannot, the statement fails rather than lock the table. IF NOT EXISTS makes a second
-- run change nothing.
ALTER TABLE assistants
    ADD COLUMN IF NOT EXISTS language ENUM('id', 'en') NOT NULL DEFAULT 'id'
        COMMENT 'her USSD menu language',
    ALGORITHM=INSTANT;
