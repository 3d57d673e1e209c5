/*
 * The import as an upload (GET/POST /import, GET /import/job?id=N; administrators only): the
 * upload is spooled to a file (0600) by the database worker that checked the session, then the
 * loop runs the same `kabard -c CONF import KIND FILE [--dry-run] --by USER` as the command line
 * in a child process and reads its output through two pipes, so neither the importer nor its
 * 100 MB file ever runs on the loop. One import at a time; its output is kept, bounded, until
 * the next one starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admin_int.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "multipart.h"

extern char **environ;

#define IMPORT_REJECTS_KEPT 2000
#define IMPORT_MESSAGES_KEPT 20
#define IMPORT_LINE_MAX 1024

static const char *const import_kinds[] = {"kpm", "assistants", "kube", "trainings", "enrolments"};

/* The one import this kabard runs or ran last; only the loop touches it. */
static struct import_job {
    uint64_t id; /* 0: none yet */
    pid_t pid;   /* 0 once reaped */
    int running;
    int status; /* the child's exit status; -1 killed by a signal */
    char kind[16];
    int dry_run;
    char by[65];
    char spool[1100];
    time_t started, ended;
    struct bufferevent *out, *err; /* the child's stdout, stderr */
    struct event *reap;
    char **rejects; /* "line=N reason=..." in the order printed, the first IMPORT_REJECTS_KEPT */
    size_t nrejects, rejects_total;
    char *messages[IMPORT_MESSAGES_KEPT]; /* other lines: a refused file, a database error */
    size_t nmessages;
    char counts[IMPORT_LINE_MAX];   /* import=KIND inserted=... */
    char progress[IMPORT_LINE_MAX]; /* the last progress line */
} import_job;

static void
import_job_clear(void)
{
    size_t i;

    for (i = 0; i < import_job.nrejects; i++)
        free(import_job.rejects[i]);
    free(import_job.rejects);
    for (i = 0; i < import_job.nmessages; i++)
        free(import_job.messages[i]);
    if (import_job.reap != NULL)
        event_free(import_job.reap);
    memset(&import_job, 0, sizeof import_job);
}

static void
import_line(int is_err, const char *line, size_t n)
{
    char *copy;

    if (!is_err && n > 5 && memcmp(line, "line=", 5) == 0) {
        import_job.rejects_total++;
        if (import_job.nrejects >= IMPORT_REJECTS_KEPT || (copy = strndup(line, n)) == NULL)
            return;
        import_job.rejects[import_job.nrejects++] = copy;
    } else if (!is_err && n > 7 && memcmp(line, "import=", 7) == 0) {
        snprintf(import_job.counts, sizeof import_job.counts, "%.*s", (int)n, line);
    } else if (is_err && n > 12 && memcmp(line, "import kind=", 12) == 0) {
        snprintf(import_job.progress, sizeof import_job.progress, "%.*s", (int)n, line);
    } else if (n > 0 && import_job.nmessages < IMPORT_MESSAGES_KEPT &&
               (copy = strndup(line, n)) != NULL) {
        import_job.messages[import_job.nmessages++] = copy;
    }
}

/* Every whole line in the pipe's buffer; at EOF the rest too. A line longer than
 * IMPORT_LINE_MAX is cut there. */
static void
import_drain(struct bufferevent *bev, int eof)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    int is_err = bev == import_job.err;
    char line[IMPORT_LINE_MAX];

    for (;;) {
        struct evbuffer_ptr nl = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
        size_t len = evbuffer_get_length(in), n, take;

        if (nl.pos >= 0)
            take = (size_t)nl.pos + 1, n = (size_t)nl.pos;
        else if (len >= sizeof line || (eof && len > 0))
            take = n = len < sizeof line ? len : sizeof line;
        else
            return;
        if (n > sizeof line)
            n = sizeof line;
        evbuffer_copyout(in, line, n);
        evbuffer_drain(in, take);
        import_line(is_err, line, n);
    }
}

static void import_reap(evutil_socket_t fd, short what, void *arg);

static void
import_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    import_drain(bev, 0);
}

static void
import_closed(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == 0)
        return;
    import_drain(bev, 1);
    if (bev == import_job.out)
        import_job.out = NULL;
    else
        import_job.err = NULL;
    bufferevent_free(bev);
    if (import_job.out == NULL && import_job.err == NULL)
        import_reap(-1, 0, NULL);
}

/* Both pipes closed: the child is ending. waitpid without blocking, again in 50 ms until it has. */
static void
import_reap(evutil_socket_t fd, short what, void *arg)
{
    const struct timeval again = {0, 50000};
    int st;
    pid_t p;

    (void)fd, (void)what, (void)arg;
    while ((p = waitpid(import_job.pid, &st, WNOHANG)) == -1 && errno == EINTR)
        ;
    if (p == 0) {
        evtimer_add(import_job.reap, &again);
        return;
    }
    import_job.status = p == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    import_job.pid = 0;
    import_job.running = 0;
    import_job.ended = time(NULL);
    admin_dashboard_charts_changed(); /* KPM moved to other assistants */
    if (unlink(import_job.spool) == -1 && errno != ENOENT)
        log_warn("import_spool_unlink", "id=%llu errno=%d", (unsigned long long)import_job.id,
                 errno);
    log_info("import_finished", "id=%llu kind=%s dry_run=%d status=%d rejected=%zu seconds=%lld",
             (unsigned long long)import_job.id, import_job.kind, import_job.dry_run,
             import_job.status, import_job.rejects_total,
             (long long)(import_job.ended - import_job.started));
}

/* the pipe's read end, for the loop */
static struct bufferevent *
import_pipe_bev(struct event_base *base, int fd)
{
    struct bufferevent *bev;

    if (evutil_make_socket_nonblocking(fd) == -1 ||
        (bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
        close(fd);
        return NULL;
    }
    bufferevent_setcb(bev, import_read, NULL, import_closed, NULL);
    bufferevent_enable(bev, EV_READ);
    return bev;
}

/* The child: this very binary, with the running configuration. 0, or -1 with errno. */
static int
import_spawn(struct admin_job *j, int out[2], int err[2], pid_t *pid)
{
    /* posix_spawn takes char *const argv[]: the words as arrays of our own */
    char w_name[] = "kabard", w_c[] = "-c", w_import[] = "import", w_dry[] = "--dry-run",
         w_by[] = "--by";
    char *argv[10];
    posix_spawn_file_actions_t fa;
    size_t n = 0;
    int rc;

    argv[n++] = w_name;
    argv[n++] = w_c;
    argv[n++] = j->config_path;
    argv[n++] = w_import;
    argv[n++] = j->import_kind;
    argv[n++] = j->spool;
    if (j->import_dry)
        argv[n++] = w_dry;
    argv[n++] = w_by;
    argv[n++] = j->s.user.username;
    argv[n] = NULL;
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
        errno = rc;
        return -1;
    }
    /* the child holds none of kabard's sockets or database links */
    if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&fa, out[1], 1)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&fa, err[1], 2)) != 0 ||
        (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
        (rc = posix_spawn(pid, "/proc/self/exe", &fa, NULL, argv, environ)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        errno = rc;
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    return 0;
}

/* On the loop, the upload spooled: the import starts (303 to its page), or a 409 while another
 * runs. Ends by sending the job's answer through admin_done(). */
static void
import_start(struct admin_job *j)
{
    struct event_base *base = evhttp_connection_get_base(evhttp_request_get_connection(j->r->req));
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    char loc[64];
    pid_t pid;

    if (import_job.running) {
        admin_message(j, 409, L(j, "Impor sedang berjalan", "An import is running"),
                      L(j,
                        "Satu impor pada satu waktu. Tunggu sampai impor yang berjalan selesai, "
                        "lalu kirim berkas ini lagi.",
                        "One import at a time. Wait for the running one to finish, then send "
                        "this file again."));
        admin_done(0, j);
        return;
    }
    if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
        import_spawn(j, out, err, &pid) == -1) {
        log_warn("import_spawn_failed", "errno=%d", errno);
        if (out[0] != -1)
            close(out[0]), close(out[1]);
        if (err[0] != -1)
            close(err[0]), close(err[1]);
        admin_message(j, 503, L(j, "Impor gagal dimulai", "The import could not start"),
                      L(j, "Coba lagi sebentar.", "Try again shortly."));
        admin_done(0, j);
        return;
    }
    close(out[1]);
    close(err[1]);
    import_job_clear();
    import_job.id = (uint64_t)time(NULL) * 1000 + (uint64_t)(pid % 1000);
    import_job.pid = pid;
    import_job.running = 1;
    import_job.started = time(NULL);
    import_job.dry_run = j->import_dry;
    snprintf(import_job.kind, sizeof import_job.kind, "%s", j->import_kind);
    snprintf(import_job.by, sizeof import_job.by, "%s", j->s.user.username);
    snprintf(import_job.spool, sizeof import_job.spool, "%s", j->spool);
    j->spool[0] = '\0'; /* the import's now: removed when the child ends */
    import_job.rejects = calloc(IMPORT_REJECTS_KEPT, sizeof *import_job.rejects);
    import_job.reap = evtimer_new(base, import_reap, NULL);
    import_job.out = import_pipe_bev(base, out[0]);
    import_job.err = import_pipe_bev(base, err[0]);
    if (import_job.rejects == NULL || import_job.reap == NULL || import_job.out == NULL ||
        import_job.err == NULL) {
        /* without its pipes the child is stopped; what is left of it is reaped as it ends */
        kill(pid, SIGTERM);
        if (import_job.out != NULL)
            bufferevent_free(import_job.out), import_job.out = NULL;
        if (import_job.err != NULL)
            bufferevent_free(import_job.err), import_job.err = NULL;
        if (import_job.reap != NULL)
            import_reap(-1, 0, NULL);
        else /* out of memory: never reaped, but no later import waits on it */
            import_job.running = 0;
    }
    log_info("import_started", "id=%llu pid=%d kind=%s dry_run=%d user_id=%llu",
             (unsigned long long)import_job.id, (int)pid, import_job.kind, import_job.dry_run,
             (unsigned long long)j->s.user.id);
    snprintf(loc, sizeof loc, "/import/job?id=%llu", (unsigned long long)import_job.id);
    admin_redirect(j, loc);
    admin_done(0, j);
}

static int
import_admin_only(struct admin_job *j)
{
    if (j->s.user.admin)
        return 1;
    admin_message(
        j, 403, L(j, "Tidak diizinkan", "Forbidden"),
        L(j, "Hanya administrator yang boleh mengimpor.", "Only administrators may import."));
    return 0;
}

/* On the loop, where the import's state lives: the form, and a link to the running or last
 * import. */
static void
import_form(struct admin_job *j)
{
    size_t k;

    admin_head(j, L(j, "Impor", "Import"), "import");
    out(j, "<p>");
    out(j, L(j,
             "Berkas CSV ekspor registri (baris judul, ; atau ,). Impor berjalan di latar "
             "belakang; hasilnya ditampilkan pada halaman berikut.",
             "A registry export as CSV (a header row, ; or ,). The import runs in the "
             "background; the next page shows how it went."));
    out(j, "</p>");
    if (import_job.id != 0)
        outf(j, "<p><a id=\"import-last\" href=\"/import/job?id=%llu\">%s</a></p>",
             (unsigned long long)import_job.id,
             import_job.running ? L(j, "Impor yang sedang berjalan", "The import running now")
                                : L(j, "Impor terakhir", "The last import"));
    out(j, "<form id=\"import-form\" method=\"post\" action=\"/import\" "
           "enctype=\"multipart/form-data\">");
    admin_csrf_field(j);
    outf(j, "<label>%s <select name=\"kind\">", L(j, "Jenis", "Kind"));
    for (k = 0; k < sizeof import_kinds / sizeof *import_kinds; k++)
        outf(j, "<option>%s</option>", import_kinds[k]);
    outf(
        j,
        "</select></label> <label><input type=\"checkbox\" name=\"dry_run\" value=\"1\" "
        "checked> %s</label> <label>%s <input type=\"file\" name=\"file\" accept=\".csv,text/csv\" "
        "required></label> <button type=\"submit\">%s</button></form>",
        L(j, "Uji saja (tidak menulis)", "Dry run (writes nothing)"), L(j, "Berkas", "File"),
        L(j, "Impor", "Import"));
    admin_foot(j);
    admin_done(0, j);
}

/* An administrator's page written on the loop, where the import's state lives, by fn. */
static int
import_page_on_loop(struct admin_job *j, void (*fn)(struct admin_job *))
{
    if (import_admin_only(j))
        j->stream = fn;
    return 0;
}

int
admin_page_import(struct db_conn *c, struct admin_job *j)
{
    (void)c;
    return import_page_on_loop(j, import_form);
}

/* Writes the file part to a new spool file (0600), synced: 0, or -1 (errno). */
static int
import_spool_write(struct admin_job *j, const struct multipart_part *file)
{
    const char *dir = j->cfg->admin.import_spool;
    char name[66];
    size_t done = 0, i, n = 0;
    int fd;

    /* the sender's file name, tamed, ends the spool's: the audit row names the file by it */
    name[n++] = '-';
    for (i = 0; i < file->filename_len && n < sizeof name - 1; i++) {
        char ch = file->filename[i];

        if (ch == '/' || ch == '\\')
            n = 1; /* a browser's path: its last part */
        else
            name[n++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                                (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'
                            ? ch
                            : '_';
    }
    name[n == 1 ? 0 : n] = '\0';
    if (dir[0] == '\0' && ((dir = getenv("TMPDIR")) == NULL || dir[0] == '\0'))
        dir = "/tmp";
    if ((size_t)snprintf(j->spool, sizeof j->spool, "%s/kabar-import-XXXXXX%s", dir, name) >=
        sizeof j->spool) {
        j->spool[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = mkostemps(j->spool, (int)strlen(name), O_CLOEXEC)) == -1) {
        j->spool[0] = '\0';
        return -1;
    }
    while (done < file->len) {
        ssize_t w = write(fd, file->data + done, file->len - done);

        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    if (fsync(fd) == -1) {
        close(fd);
        return -1;
    }
    return close(fd);
}

/*
 * On a worker (the session checked): the form read and its CSRF token checked here, since a
 * multipart body is no urlencoded form; the file spooled; the loop then starts the import.
 */
int
admin_do_import(struct db_conn *c, struct admin_job *j)
{
    const char *bad = L(j, "Permintaan salah", "Bad request");
    struct multipart_form f;
    const struct multipart_part *file;
    char err[128], csrf[AUTH_TOKEN_HEX], dry[4] = "";
    size_t k;

    (void)c;
    if (j->spool[0] != '\0') { /* a re-run of the job */
        (void)unlink(j->spool);
        j->spool[0] = '\0';
    }
    if (!import_admin_only(j))
        return 0;
    if (multipart_parse(j->r->content_type, j->r->body, j->r->body_len, &f, err, sizeof err) ==
        -1) {
        log_warn("admin_import_refused", "reason=multipart user_id=%llu",
                 (unsigned long long)j->s.user.id);
        return admin_message(j, 400, bad, err);
    }
    if (multipart_field(&f, "csrf", csrf, sizeof csrf) == -1 || !auth_token_equal(csrf, j->s.csrf))
        return admin_csrf_refused(j);
    j->import_kind[0] = '\0';
    (void)multipart_field(&f, "kind", j->import_kind, sizeof j->import_kind);
    for (k = 0; k < sizeof import_kinds / sizeof *import_kinds; k++)
        if (strcmp(j->import_kind, import_kinds[k]) == 0)
            break;
    if (k == sizeof import_kinds / sizeof *import_kinds)
        return admin_message(j, 400, bad, "kind: kpm, assistants, kube, trainings, enrolments");
    j->import_dry = multipart_field(&f, "dry_run", dry, sizeof dry) == 0 && dry[0] != '\0';
    if ((file = multipart_find(&f, "file")) == NULL || file->filename == NULL || file->len == 0)
        return admin_message(
            j, 400, bad,
            L(j, "Pilih berkas CSV yang tidak kosong.", "Choose a CSV file that is not empty."));
    if (realpath(j->cfg->path, j->config_path) == NULL || import_spool_write(j, file) == -1) {
        log_warn("admin_import_spool_failed", "errno=%d", errno);
        return admin_message(j, 503,
                             L(j, "Berkas tidak dapat disimpan", "Could not store the file"),
                             L(j, "Coba lagi sebentar.", "Try again shortly."));
    }
    j->stream = import_start;
    return 0;
}

/* On the loop: the page of the import (running, or its counts and rejected lines). */
static void
import_show(struct admin_job *j)
{
    size_t i;

    admin_head(j, L(j, "Impor", "Import"), "import-job");
    outf(j, "<p id=\"import-state\" class=\"%s\">", import_job.running ? "running" : "done");
    if (import_job.running) {
        /* the page reloads itself until the import ends */
        http_add_header(j->r, "Refresh", "2");
        out(j, L(j, "Sedang berjalan", "Running"));
    } else if (import_job.status == 0) {
        out(j, L(j, "Selesai", "Finished"));
    } else {
        outf(j, "%s (status %d)", L(j, "Gagal", "Failed"), import_job.status);
    }
    outf(j, " &middot; %s%s &middot; ", import_job.kind,
         import_job.dry_run ? L(j, " (uji saja)", " (dry run)") : "");
    esc(j, import_job.by);
    out(j, "</p>");
    if (import_job.progress[0] != '\0' && import_job.running) {
        out(j, "<pre id=\"import-progress\">");
        esc(j, import_job.progress);
        out(j, "</pre>");
    }
    if (import_job.counts[0] != '\0') {
        out(j, "<pre id=\"import-counts\">");
        esc(j, import_job.counts);
        out(j, "</pre>");
    }
    if (import_job.nmessages > 0) {
        out(j, "<pre id=\"import-messages\">");
        for (i = 0; i < import_job.nmessages; i++) {
            esc(j, import_job.messages[i]);
            out(j, "\n");
        }
        out(j, "</pre>");
    }
    outf(j, "<h2>%s: %zu</h2><pre id=\"import-rejects\">", L(j, "Baris ditolak", "Rejected lines"),
         import_job.rejects_total);
    for (i = 0; i < import_job.nrejects; i++) {
        esc(j, import_job.rejects[i]);
        out(j, "\n");
    }
    out(j, "</pre>");
    if (import_job.rejects_total > import_job.nrejects)
        outf(j, "<p>%s %zu</p>", L(j, "Tidak ditampilkan:", "Not shown:"),
             import_job.rejects_total - import_job.nrejects);
    outf(j, "<p><a href=\"/import\">%s</a></p>", L(j, "Impor lagi", "Import again"));
    admin_foot(j);
    admin_done(0, j);
}

/* ?id=N: the import this kabard runs or ran last; an older one is gone (its audit row stays). */
static void
import_show_id(struct admin_job *j)
{
    struct parse_field qf[] = {{"id", NULL, 24, 0, 0, 1}};
    char idbuf[24] = "", err_msg[96];
    uint64_t id;

    qf[0].buf = idbuf;
    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1 ||
        parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1) {
        admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "id");
        admin_done(0, j);
        return;
    }
    if (id != import_job.id) {
        admin_message(j, 404, L(j, "Impor tidak ditemukan", "No such import"),
                      L(j, "Hanya impor terakhir yang disimpan; lihat log audit.",
                        "Only the last import is kept; see the audit log."));
        admin_done(0, j);
        return;
    }
    import_show(j);
}

int
admin_page_import_job(struct db_conn *c, struct admin_job *j)
{
    (void)c;
    return import_page_on_loop(j, import_show_id);
}
