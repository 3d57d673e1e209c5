-- The outbox sender claims due rows with one UPDATE ... LIMIT n that stamps them with a token
-- of its own, then reads back what it claimed: two kabard on one database never claim the
-- same row (InnoDB re-checks state = 'queued' after waiting for the row lock).
ALTER TABLE outbox
    ADD COLUMN IF NOT EXISTS claim_token CHAR(24) NULL AFTER state,
    ADD INDEX IF NOT EXISTS idx_outbox_claim (claim_token),
    ADD INDEX IF NOT EXISTS idx_outbox_state_updated (state, updated_at);

-- A business report by SMS, one question per message (a bare USAHA): the answers so far, in
-- the same path form the USSD dialogs use, so the same dialog definitions drive it.
CREATE TABLE IF NOT EXISTS sms_dialogs (
    msisdn VARCHAR(16) NOT NULL,
    kpm_id BIGINT UNSIGNED NOT NULL,
    input_path VARCHAR(1024) NOT NULL,
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    expires_at DATETIME(3) NOT NULL,
    PRIMARY KEY (msisdn),
    KEY idx_sms_dialogs_expires (expires_at),
    CONSTRAINT fk_sms_dialogs_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
