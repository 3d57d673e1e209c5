/*
 * Work that must happen once with several kabard on one database (or a Galera cluster): a lease
 * row per duty (table duty_leases). A duty's transaction calls lease_take() first: it takes the
 * lease when it is free or expired, renews it when this process holds it, and says 0 when
 * another live kabard holds it or is running the duty right now. The lease's row is written in
 * the duty's own transaction, so the lease and the work commit together (under Galera a takeover
 * racing the holder's run fails certification on this row and is re-run, and then finds the
 * lease taken). Expiry is the database's clock, never the instances'.
 */
#ifndef KABAR_LEASE_H
#define KABAR_LEASE_H

struct db_conn;

/* the duties, each a row of duty_leases (migration 018 makes them; a missing one is made) */
#define LEASE_ALERTS "alerts"
#define LEASE_OUTBOX "outbox"
#define LEASE_SUMMARY "summary"
#define LEASE_USSD_STATES "ussd_states"
#define LEASE_ADMIN_SESSIONS "admin_sessions"

/* Who this process is, once, at start: the configured instance, or "HOST:PORT" (listen.port as
 * configured, so kabard restarted on its port is the same instance and takes its duties back at
 * once; all the tests' kabard, on port 0, are one instance) when it is empty. Also draws the
 * process number. */
void lease_init(const char *instance, int port);
const char *lease_instance(void);
/* In a duty's transaction, first: *held is 1 when this process holds the duty for ttl_ms more
 * (taken or renewed), 0 when another holds it; returns 0 or a MariaDB error number. */
int lease_take(struct db_conn *c, const char *duty, unsigned long long ttl_ms, int *held);
/* Last in a long duty's transaction, after lease_take() said held: the lease counts from the
 * end of the run, so a run longer than the lease does not hand the duty over at its commit. */
int lease_hold(struct db_conn *c, const char *duty, unsigned long long ttl_ms);
/* At a clean stop, after the loop: this process's leases expire now (queued before the pool
 * drains; a duty's run still in flight commits first, as it holds the row), so another kabard
 * takes them at its next run instead of a lease's time later. */
void lease_release(void);
/* The usual time to live of a duty run every period_ms: three periods, three seconds at least
 * (a commit through Galera can take a good part of a second). */
unsigned long long lease_ttl_ms(unsigned long long period_ms);

#endif
