/*
 * The summary step: report_hours (sql/015_scale_pages.sql) brought up to the reports, on a
 * database worker, never on the loop. See "At national scale" in the README.
 */
#ifndef KABAR_SUMMARY_H
#define KABAR_SUMMARY_H

struct event_base;

/* reports younger than this (seconds) are left to the next steps: a report's transaction still
 * open when a later one has committed would otherwise be passed by the mark */
#define SUMMARY_LAG_SECONDS 300
/* at most this many rows of a table per step; a full batch runs the next step at once */
#define SUMMARY_BATCH 20000
#define SUMMARY_SECONDS 10

int summary_start(struct event_base *base);
void summary_stop(void);
void summary_free(void);

#endif
