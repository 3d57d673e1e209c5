-- Kabar schema, migration 018: work that must happen once with several kabard (issue 15).
--
-- duty_leases: one row per duty that one kabard at a time must run (the alerts tick with its
-- digests, reminders and nudges; the outbox claims; the summary step; the purge of Hubtel
-- session states; the sweep of expired admin sessions). gateway/lease.c takes or renews a
-- duty's row as the first statement of the duty's own transaction, so the lease and the work
-- commit together: under Galera a takeover racing the holder's run is a write-write conflict on
-- this row, and one of them fails certification and is re-run, finding the lease taken. epoch
-- counts the changes of holder.
--
-- ussd_states: where a Hubtel session (which sends only the latest input) is, written behind
-- by the kabard holding it, so another kabard continues it when that one dies.
--
-- New tables only: nothing is locked, whatever the size of the others.
CREATE TABLE IF NOT EXISTS duty_leases (
    duty VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    holder VARCHAR(64) NOT NULL COMMENT 'the instance setting of the kabard holding it',
    process BIGINT UNSIGNED NOT NULL COMMENT 'a number drawn by that process at its start',
    epoch BIGINT UNSIGNED NOT NULL COMMENT 'moves by one at each change of holder',
    expires_at DATETIME(3) NOT NULL COMMENT 'database time; another kabard takes it after',
    taken_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    renewed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (duty)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO duty_leases (duty, holder, process, epoch, expires_at) VALUES
    ('alerts', '', 0, 0, '2000-01-01'), ('outbox', '', 0, 0, '2000-01-01'),
    ('summary', '', 0, 0, '2000-01-01'), ('ussd_states', '', 0, 0, '2000-01-01'),
    ('admin_sessions', '', 0, 0, '2000-01-01')
ON DUPLICATE KEY UPDATE duty = duty;

CREATE TABLE IF NOT EXISTS ussd_states (
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    msisdn VARCHAR(16) NOT NULL,
    input_path VARCHAR(1024) NOT NULL COMMENT 'the inputs so far, *-joined, as Africa''s Talking sends them',
    inputs SMALLINT UNSIGNED NOT NULL COMMENT 'how many inputs the path holds',
    updated_at DATETIME(3) NOT NULL,
    PRIMARY KEY (channel, session_id),
    KEY (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
