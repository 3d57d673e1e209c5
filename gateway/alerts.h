/*
 * Alerts for social assistants and reminders for KPM, on a timer of the event loop. Every tick
 * is one transaction: raise alerts by the configured rules, each for the KPM of the graduation
 * tracks it names (idempotent: a dedupe key per rule, KPM and event, and no second alert for
 * the same rule and KPM inside the window, except relapse: one per report), send the
 * immediate ones, the daily digests (with the lessons_not_started line), the reminders, the
 * welfare graduates' monthly check-in and the weekly lesson drip that are due, through the outbox.
 * All state is in MariaDB (alerts, outbox keys), so a restart neither repeats nor skips anything,
 * and two kabard on one database never send the same alert (SKIP LOCKED claims, unique keys).
 */
#ifndef KABAR_ALERTS_H
#define KABAR_ALERTS_H

struct event_base;
struct config;

int alerts_start(struct event_base *base, struct config *cfg);
void alerts_reconfigure(struct config *cfg);
void alerts_stop(void);
void alerts_free(void);

#endif
