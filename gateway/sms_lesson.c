#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "keyword.h"
#include "lesson.h"
#include "lesson_store.h"
#include "parse.h"
#include "sms_lesson.h"
#include "texts.h"

/* The course SMS teaches: the first of lessons.conf (the one the KPM menu teaches too). */
static const struct lesson_course *
sms_lesson_course(const struct config *cfg)
{
    return cfg->lessons != NULL && cfg->lessons->ncourses > 0 ? &cfg->lessons->courses[0] : NULL;
}

struct sms_lesson_wait {
    int enrolled;
    char module[LESSON_ID_MAX + 1]; /* "": no question waiting */
    unsigned question, right;
};

static int
sms_lesson_row_wait(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_lesson_wait *w = arg;
    uint64_t x;

    (void)len;
    if (n < 3)
        return 1;
    w->enrolled = 1;
    if (v[0] != NULL && v[1] != NULL && parse_u64(v[1], strlen(v[1]), 0, 255, &x) == 0) {
        snprintf(w->module, sizeof w->module, "%s", v[0]);
        w->question = (unsigned)x;
    }
    if (v[2] != NULL && parse_u64(v[2], strlen(v[2]), 0, 255, &x) == 0)
        w->right = (unsigned)x;
    return 1;
}

static int
sms_lesson_wait_load(struct db_conn *c, uint64_t kpm_id, const char *course,
                     struct sms_lesson_wait *w)
{
    struct db_param p[] = {DB_U64(kpm_id), DB_STR(course)};

    memset(w, 0, sizeof *w);
    return db_query(c,
                    "SELECT sms_module, sms_question, sms_right FROM lesson_enrolments"
                    " WHERE kpm_id = ? AND course = ? FOR UPDATE",
                    p, 2, sms_lesson_row_wait, w);
}

/* The question waiting: module NULL for none. */
static int
sms_lesson_wait_store(struct db_conn *c, uint64_t kpm_id, const char *course, const char *module,
                      unsigned question, unsigned right)
{
    struct db_param p[] = {module != NULL ? DB_STR(module) : DB_NULL(),
                           module != NULL ? DB_U64(question) : DB_NULL(), DB_U64(right),
                           DB_U64(kpm_id), DB_STR(course)};

    return db_exec(c,
                   "UPDATE lesson_enrolments SET sms_module = ?, sms_question = ?, sms_right = ?"
                   " WHERE kpm_id = ? AND course = ?",
                   p, 5, NULL, NULL);
}

static void
sms_lesson_text(const struct sms_lesson_msg *m, enum text_id t, const char *const *kv, char *out,
                size_t outlen)
{
    texts_render(m->cfg->texts, t, m->en, kv, out, outlen);
}

/* BELAJAR: the next module, all its screens read, and its first question waiting. */
static int
sms_lesson_next(struct db_conn *c, const struct sms_lesson_msg *m,
                const struct lesson_course *course, char *reply, size_t replylen, char *follow,
                size_t followlen)
{
    const char *lang = m->en ? "en" : "id";
    char session[80], how[160];
    struct lesson_key key = {m->channel, session};
    const struct lesson_module *mod;
    struct sms_lesson_wait w;
    unsigned last;
    int err, idx;

    snprintf(session, sizeof session, "sms:%s", m->msg_id);
    if ((err = lesson_enrol(c, m->kpm_id, course->id)) != 0 ||
        (err = sms_lesson_wait_load(c, m->kpm_id, course->id, &w)) != 0 ||
        (err = lesson_next_module(c, m->kpm_id, course, &idx, &last)) != 0)
        return err;
    if (idx < 0) {
        sms_lesson_text(m, TEXT_LESSON_DONE, NULL, reply, replylen);
        return sms_lesson_wait_store(c, m->kpm_id, course->id, NULL, 0, 0);
    }
    mod = &course->modules[idx];
    if ((err = lesson_screen_seen(c, m->kpm_id, course->id, mod->id, mod->nscreens - 1,
                                  mod->nscreens, LESSON_VIA_SMS, &key)) != 0 ||
        (err = sms_lesson_wait_store(c, m->kpm_id, course->id, mod->id, 0, 0)) != 0)
        return err;
    sms_lesson_text(m, TEXT_LESSON_REPLY, NULL, how, sizeof how);
    if (lesson_sms_module(course, mod, lang, reply, replylen) < 0 ||
        lesson_sms_question(mod, 0, lang, how, follow, followlen) < 0)
        reply[0] = follow[0] = '\0'; /* cannot happen: the loader measured them */
    return 0;
}

/* Appends s to out after a new line (when out is not empty). */
static void
sms_lesson_cat(char *out, size_t outlen, const char *s)
{
    size_t n = strlen(out);

    snprintf(out + n, outlen - n, "%s%s", n > 0 ? "\n" : "", s);
}

/* An answer to the question waiting: scored, then the next question or the result. */
static int
sms_lesson_answer(struct db_conn *c, const struct sms_lesson_msg *m,
                  const struct lesson_course *course, const struct sms_lesson_wait *w,
                  unsigned answer, char *reply, size_t replylen)
{
    const char *lang = m->en ? "en" : "id";
    const struct lesson_module *mod = lesson_module(course, w->module);
    char session[80], how[160], ok[64], wrong[96], buf[LESSON_SMS_MAX];
    char sright[8], stotal[8], spass[8];
    const char *kv[] = {"title", "", "right", sright, "total", stotal, "pass", spass, NULL};
    struct lesson_key key = {m->channel, session};
    unsigned right;
    int err, passed, is_right;

    if (mod == NULL || w->question >= mod->nquestions) {
        /* the course changed under the question: forget it */
        sms_lesson_text(m, TEXT_USAGE_ANSWER, NULL, reply, replylen);
        return sms_lesson_wait_store(c, m->kpm_id, course->id, NULL, 0, 0);
    }
    sms_lesson_text(m, TEXT_LESSON_REPLY, NULL, how, sizeof how);
    if (answer < 1 || answer > mod->quiz[w->question].nopts) {
        /* not one of its options: the question again */
        lesson_sms_question(mod, w->question, lang, how, reply, replylen);
        return 0;
    }
    is_right = answer == mod->quiz[w->question].right;
    right = w->right + (unsigned)is_right;
    sms_lesson_text(m, TEXT_LESSON_RIGHT, NULL, ok, sizeof ok);
    sms_lesson_text(m, TEXT_LESSON_WRONG, NULL, wrong, sizeof wrong);
    reply[0] = '\0';
    if (lesson_sms_feedback(mod, w->question, is_right, lang, ok, wrong, buf, sizeof buf) >= 0)
        sms_lesson_cat(reply, replylen, buf);
    if (w->question + 1 < mod->nquestions) {
        if (lesson_sms_question(mod, w->question + 1, lang, how, buf, sizeof buf) >= 0)
            sms_lesson_cat(reply, replylen, buf);
        return sms_lesson_wait_store(c, m->kpm_id, course->id, mod->id, w->question + 1, right);
    }
    snprintf(session, sizeof session, "sms:%s", m->msg_id);
    if ((err = lesson_quiz_finished(c, m->kpm_id, course->id, mod->id, right, mod->nquestions,
                                    mod->pass, LESSON_VIA_SMS, &key, "", &passed)) != 0 ||
        (err = sms_lesson_wait_store(c, m->kpm_id, course->id, NULL, 0, 0)) != 0)
        return err;
    kv[1] = lesson_tr(&mod->title, lang);
    snprintf(sright, sizeof sright, "%u", right);
    snprintf(stotal, sizeof stotal, "%u", mod->nquestions);
    snprintf(spass, sizeof spass, "%u", mod->pass);
    sms_lesson_text(m, passed ? TEXT_LESSON_PASSED : TEXT_LESSON_FAILED, kv, buf, sizeof buf);
    sms_lesson_cat(reply, replylen, buf);
    return 0;
}

/* BELAJAR MINGGUAN / BELAJAR STOP */
static int
sms_lesson_drip(struct db_conn *c, const struct sms_lesson_msg *m,
                const struct lesson_course *course, char *reply, size_t replylen)
{
    int on = m->k->lesson_mode == KEYWORD_LESSON_WEEKLY, err;
    struct db_param p[] = {DB_U64(on), DB_U64(m->kpm_id), DB_STR(course->id)};

    if ((err = lesson_enrol(c, m->kpm_id, course->id)) != 0 ||
        (err = db_exec(c, "UPDATE lesson_enrolments SET drip = ? WHERE kpm_id = ? AND course = ?",
                       p, 3, NULL, NULL)) != 0)
        return err;
    sms_lesson_text(m, on ? TEXT_LESSON_WEEKLY : TEXT_LESSON_WEEKLY_STOP, NULL, reply, replylen);
    return 0;
}

/* A message that is only a number (a bare answer "2"), and that number. */
static int
sms_lesson_bare(const char *t, size_t len, unsigned *answer)
{
    uint64_t v;

    while (len > 0 && (t[0] == ' ' || t[0] == '\t' || t[0] == '\r' || t[0] == '\n')) {
        t++;
        len--;
    }
    while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\r' ||
                       t[len - 1] == '\n' || t[len - 1] == '.'))
        len--;
    if (parse_u64(t, len, 0, KEYWORD_ANSWER_MAX, &v) != 0)
        return 0;
    *answer = (unsigned)v;
    return 1;
}

int
sms_lesson_act(struct db_conn *c, const struct sms_lesson_msg *m, char *reply, size_t replylen,
               char *follow, size_t followlen, int *handled)
{
    const struct keyword_msg *k = m->k;
    const struct lesson_course *course = sms_lesson_course(m->cfg);
    struct sms_lesson_wait w;
    unsigned answer = 0;
    int bare = k->error == KWE_UNKNOWN && k->cmd == KW_NONE &&
               sms_lesson_bare(m->text, m->text_len, &answer);
    int err;

    *handled = 0;
    reply[0] = follow[0] = '\0';
    if (!bare && !(k->error == KWE_OK && (k->cmd == KW_LESSON || k->cmd == KW_ANSWER)))
        return 0;
    if (course == NULL) {
        if (bare)
            return 0;
        *handled = 1;
        sms_lesson_text(m, TEXT_LESSON_NONE, NULL, reply, replylen);
        return 0;
    }
    if (k->cmd == KW_LESSON) {
        *handled = 1;
        if (k->lesson_mode != 0)
            return sms_lesson_drip(c, m, course, reply, replylen);
        return sms_lesson_next(c, m, course, reply, replylen, follow, followlen);
    }
    if ((err = sms_lesson_wait_load(c, m->kpm_id, course->id, &w)) != 0)
        return err;
    if (w.module[0] == '\0') {
        /* no question waiting: a bare number keeps its old meaning */
        if (bare)
            return 0;
        *handled = 1;
        sms_lesson_text(m, TEXT_USAGE_ANSWER, NULL, reply, replylen);
        return 0;
    }
    *handled = 1;
    return sms_lesson_answer(c, m, course, &w, bare ? answer : k->answer, reply, replylen);
}
