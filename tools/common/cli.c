#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

size_t cli_max_line(void)
{
    const char *env = getenv("BERT_MAX_LINE_BYTES");
    size_t v = 0;
    if (env && cli_parse_size(env, &v) == 0 && v > 0 && v < SIZE_MAX / 2)
        return v;
    return (size_t)256 << 20;
}

#ifdef CLI_TESTING
size_t cli__alloc_fail_at, cli__alloc_count;
#endif

/* The line reader's one allocation call, which the tests make fail in turn (CLI_TESTING). */
static void *line_realloc(void *p, size_t n)
{
#ifdef CLI_TESTING
    if (++cli__alloc_count == cli__alloc_fail_at)
        return NULL;
#endif
    return realloc(p, n);
}

int cli_read_line(FILE *f, char **buf, size_t *cap, size_t *len)
{
    const size_t max = cli_max_line();
    size_t n = 0;
    int c;
    errno = 0;
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n + 2 > *cap) { /* room for this byte and the NUL */
            if (n >= max) {
                funlockfile(f);
                return CLI_LINE_TOO_LONG;
            }
            size_t want = *cap < 256 ? 256 : *cap * 2;
            want = want > max + 1 ? max + 1 : want;
            char *p = line_realloc(*buf, want);
            if (!p) {
                funlockfile(f);
                return CLI_LINE_NOMEM;
            }
            *buf = p;
            *cap = want;
        }
        (*buf)[n++] = (char)c;
    }
    funlockfile(f);
    if (c == EOF && (ferror(f) || n == 0))
        return ferror(f) ? CLI_LINE_READ_ERROR : CLI_LINE_EOF;
    if (!*buf || *cap == 0) { /* an empty line before any other */
        char *p = line_realloc(*buf, 256);
        if (!p)
            return CLI_LINE_NOMEM;
        *buf = p;
        *cap = 256;
    }
    (*buf)[n] = '\0';
    *len = n;
    return CLI_LINE_OK;
}

int cli_line_error(const char *prog, const char *in_name, size_t lineno, int r)
{
    if (r == CLI_LINE_TOO_LONG) {
        fprintf(stderr,
                "%s: %s:%zu: the line is longer than %zu bytes, the most a line may hold (set "
                "BERT_MAX_LINE_BYTES to allow more)\n",
                prog, in_name, lineno, cli_max_line());
        return CLI_ERR_INPUT;
    }
    if (r == CLI_LINE_NOMEM) {
        fprintf(stderr, "%s: %s:%zu: out of memory reading the line\n", prog, in_name, lineno);
        return CLI_ERR_RUNTIME;
    }
    fprintf(stderr, "%s: %s: read error at line %zu: %s\n", prog, in_name, lineno, strerror(errno));
    return CLI_ERR_INPUT;
}

int cli_utf8_repair(char **buf, size_t *cap, size_t *len)
{
    size_t bad = 0, n_bad = 0;
    if (bert_utf8_check(*buf, *len, &bad) == BERT_OK)
        return 0;
    /* count first: the result's size is known before anything moves */
    for (size_t at = 0; at < *len;) {
        if (bert_utf8_check(*buf + at, *len - at, &bad) == BERT_OK)
            break;
        n_bad++;
        at += bad + 1;
    }
    const size_t out_len = *len + 2 * n_bad;
    char *out = line_realloc(NULL, out_len + 1);
    if (!out)
        return -1;
    size_t o = 0;
    for (size_t at = 0; at < *len;) {
        if (bert_utf8_check(*buf + at, *len - at, &bad) == BERT_OK)
            bad = *len - at;
        memcpy(out + o, *buf + at, bad);
        o += bad;
        at += bad;
        if (at < *len) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            at++;
        }
    }
    out[o] = '\0';
    free(*buf);
    *buf = out;
    *cap = out_len + 1;
    *len = o;
    return (int)(n_bad > INT32_MAX ? INT32_MAX : n_bad);
}

int cli_check_specials(const char *prog, const bert_tokenizer *tok, const char *source)
{
    if (bert_tokenizer_get_source(tok) == BERT_TOKENIZER_JSON)
        return CLI_OK; /* its template's special tokens were checked when it was loaded */
    const bert_tokenizer_config c = bert_tokenizer_get_config(tok);
    const char *missing = bert_tokenizer_special_id(tok, BERT_SPECIAL_CLS) < 0   ? c.cls_token
                          : bert_tokenizer_special_id(tok, BERT_SPECIAL_SEP) < 0 ? c.sep_token
                                                                                 : NULL;
    if (!missing)
        return CLI_OK;
    fprintf(stderr,
            "%s: %s: the vocabulary has no '%s' token, which every input needs (a vocabulary made for "
            "another model?)\n",
            prog, source, missing);
    return CLI_ERR_MODEL;
}

void cli_json_string(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

void cli_tsv_text(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\':
            fputs("\\\\", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\0':
            fputs("\\0", out);
            break;
        default:
            fputc(s[i], out);
        }
    }
}

void cli_number(FILE *out, float v, int digits)
{
    if (isfinite(v))
        fprintf(out, "%.*g", digits, (double)v);
    else
        fputs("null", out);
}

void cli_log_stderr(bert_log_level level, const char *msg, void *user)
{
    fprintf(stderr, "%s: %s: %s\n", user ? (const char *)user : "libbert", bert_log_level_name(level), msg);
}

int cli_parse_size(const char *s, size_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > SIZE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

int cli_parse_range(const char *prog, const char *opt, const char *s, size_t min, size_t max, size_t *out)
{
    size_t v;
    if (!s || cli_parse_size(s, &v) != 0 || v < min || v > max) {
        fprintf(stderr, "%s: %s: '%s' is not an integer from %zu to %zu\n", prog, opt, s ? s : "", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_real(const char *prog, const char *opt, const char *s, double lo, double hi, int lo_open, double *out)
{
    char *end = NULL;
    errno = 0;
    const double v = s && *s ? strtod(s, &end) : NAN;
    /* NaN fails every comparison below, inf the upper bound */
    if (!s || !*s || *end || errno || !(lo_open ? v > lo : v >= lo) || !(v <= hi)) {
        fprintf(stderr, "%s: %s: '%s' is not a number in %c%g, %g]\n", prog, opt, s ? s : "", lo_open ? '(' : '[', lo,
                hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int has_vocab(const char *dir)
{
    char path[4200];
    int n = snprintf(path, sizeof path, "%s/vocab.txt", dir);
    return n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

static const char *sigbus_prog = "libbert";

static void on_sigbus(int sig)
{
    (void)sig;
    /* only async-signal-safe calls here: write and _exit */
    static const char msg[] = ": the model file was truncated or changed while in use (SIGBUS reading its "
                              "mapping); replace a model by writing a new file and renaming it over the old one\n";
    ssize_t w = write(STDERR_FILENO, sigbus_prog, strlen(sigbus_prog));
    w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(CLI_ERR_MODEL);
}

void cli_catch_sigbus(const char *prog)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigbus_prog = prog;
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

const char *cli_default_model(void)
{
    static char buf[4096];
    const char *env = getenv("BERT_MODEL_DIR");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 64);
    if (n > 0) {
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (slash) {
            snprintf(slash, sizeof buf - (size_t)(slash - buf), "/../share/libbert/models/mini-sst2");
            if (has_vocab(buf))
                return buf;
        }
    }
    return BERT_MODEL_DIR_BUILD;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cli_parse_precision(const char *prog, const char *opt, const char *s, bert_precision *out)
{
    static const char *const names[3] = {"f32", "bf16", "int8"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (bert_precision)i;
            return 0;
        }
    fprintf(stderr, "%s: %s: '%s' is not f32, bf16 or int8\n", prog, opt, s);
    return -1;
}

int cli_parse_weights(const char *prog, const char *opt, const char *s, bert_weights *out)
{
    if (!strcmp(s, "packed") || !strcmp(s, "mapped")) {
        *out = s[0] == 'm' ? BERT_WEIGHTS_MAPPED : BERT_WEIGHTS_PACKED;
        return 0;
    }
    fprintf(stderr, "%s: %s: '%s' is not packed or mapped\n", prog, opt, s);
    return -1;
}

/* bytes of a white-space character at s (Python's str.isspace: ASCII and Unicode white space), else 0 */
static size_t ws_at(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D) || (s[0] >= 0x1C && s[0] <= 0x1F)))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
        return 2;
    if (n >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

void cli_strip(const char **s, size_t *n)
{
    const unsigned char *a = (const unsigned char *)*s;
    size_t len = *n, k;
    while (len && (k = ws_at(a, len)) > 0) {
        a += k;
        len -= k;
    }
    /* trailing: scan forward, remembering where the last non-space character ended */
    size_t end = 0;
    for (size_t i = 0; i < len;) {
        k = ws_at(a + i, len - i);
        if (k) {
            i += k;
            continue;
        }
        i++;
        while (i < len && (a[i] & 0xC0) == 0x80)
            i++;
        end = i;
    }
    *s = (const char *)a;
    *n = end;
}
