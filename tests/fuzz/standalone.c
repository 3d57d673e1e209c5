/*
 * Replays inputs through a fuzz target without libFuzzer, so the targets double as regression
 * tests in ordinary (e.g. ASan/UBSan) builds: each argument is a file, or a directory whose
 * files are all run; no argument reads one input from stdin. Link it only into builds without
 * -fsanitize=fuzzer (which brings its own main); -DKABAR_FUZZ_STANDALONE may be given but is
 * not needed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The buffer is exactly size bytes, so an over-read is caught by ASan as under libFuzzer. */
static int
standalone_run_stream(FILE *fp, const char *name)
{
    uint8_t *buf = NULL, *tmp;
    size_t len = 0, cap = 0, n;
    uint8_t chunk[4096];

    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            tmp = realloc(buf, cap);
            if (tmp == NULL) {
                free(buf);
                fprintf(stderr, "%s: out of memory\n", name);
                return -1;
            }
            buf = tmp;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    if (ferror(fp)) {
        free(buf);
        fprintf(stderr, "%s: read error\n", name);
        return -1;
    }
    tmp = malloc(len > 0 ? len : 1);
    if (tmp == NULL) {
        free(buf);
        return -1;
    }
    if (len > 0)
        memcpy(tmp, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(tmp, len);
    free(tmp);
    return 0;
}

static int
standalone_run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    int rc;

    if (fp == NULL) {
        perror(path);
        return -1;
    }
    rc = standalone_run_stream(fp, path);
    fclose(fp);
    return rc;
}

static int
standalone_run_path(const char *path, unsigned long *count)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int rc = 0;

    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return standalone_run_file(path);
    }
    d = opendir(path);
    if (d == NULL) {
        perror(path);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char child[4096];

        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= sizeof(child)) {
            rc = -1;
            continue;
        }
        if (stat(child, &st) == 0 && S_ISREG(st.st_mode)) {
            (*count)++;
            if (standalone_run_file(child) != 0)
                rc = -1;
        }
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    unsigned long count = 0;
    int i, rc = 0;

    if (argc < 2) {
        count = 1;
        rc = standalone_run_stream(stdin, "stdin");
    }
    for (i = 1; i < argc; i++) {
        if (standalone_run_path(argv[i], &count) != 0)
            rc = -1;
    }
    fprintf(stderr, "%s: %lu inputs run%s\n", argv[0], count, rc == 0 ? "" : ", with errors");
    return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
