-- Kabar schema, migration 004: what the admin pages and the JSON API need.
--
-- Browser logins. The cookie carries 32 random bytes. Only their SHA-256 is stored, so a copy of
-- this table (a backup, a replica) cannot be replayed as a live login. The CSRF token of a login
-- is kept with it. The review queue filter lives here and not in the URL, because it can hold a
-- KPM name or phone number, which must not travel in URLs or access logs.
CREATE TABLE IF NOT EXISTS admin_sessions (
    id_hash BINARY(32) NOT NULL COMMENT 'SHA-256 of the cookie value',
    user_id INT UNSIGNED NOT NULL,
    csrf CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    lang ENUM('id', 'en') NOT NULL DEFAULT 'id',
    filter TEXT NULL COMMENT 'review queue filter, JSON',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    last_seen DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id_hash),
    KEY idx_admin_sessions_user (user_id),
    KEY idx_admin_sessions_last_seen (last_seen),
    CONSTRAINT fk_admin_sessions_user FOREIGN KEY (user_id) REFERENCES admin_users (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Bearer tokens for /api/v1, created by `kabard user token`. A token is 32 random bytes, so a
-- plain SHA-256 suffices to keep it secret at rest: unlike a password it cannot be guessed.
CREATE TABLE IF NOT EXISTS api_tokens (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id INT UNSIGNED NOT NULL,
    name VARCHAR(64) NOT NULL,
    token_hash BINARY(32) NOT NULL COMMENT 'SHA-256 of the token',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    last_used_at DATETIME(3) NULL,
    revoked_at DATETIME(3) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_api_tokens_hash (token_hash),
    KEY idx_api_tokens_user (user_id),
    CONSTRAINT fk_api_tokens_user FOREIGN KEY (user_id) REFERENCES admin_users (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A note alone is a review action too. The current review status of a report is its latest
-- reviewed or follow_up row. Notes do not take a report out of the queue.
ALTER TABLE reviews MODIFY status ENUM('reviewed', 'follow_up', 'note') NOT NULL;

