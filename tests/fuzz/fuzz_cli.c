/* libFuzzer target: the tools' helpers around the parsers, where bytes from the command line or
 * the input end up: numeric option values against their ranges, --on-invalid replace's UTF-8
 * repair, the lone-surrogate fix of JSONL lines, and JSON string output (which must parse back to
 * the very bytes written), TSV field output (which must unescape to them and hold no separator),
 * numbers as JSON (which must parse back near the value, or be null when it is not finite), and the
 * table-driven option parser over argv made of the bytes, and stripping (Python's str.strip). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bert/bert.h>

#include "cli.h"
#include "fuzz.h"
#include "opts.h"

static const char *const fz_choices[] = {"a", "bb", "c-c", NULL};

static int fz_custom(const char *prog, const char *opt, const char *value, void *dest)
{
    (void)prog, (void)opt;
    *(int *)dest += 1;
    return value && value[0] == 'x' ? -1 : 0;
}

/* 4. the option parser: the bytes split at NUL and space into argv words, against a table of every
 * kind; whatever it accepts is inside its range, and the operands are words of argv */
static void parse_words(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *argv[130];
    if (!buf)
        return;
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    argv[argc++] = "prog";
    for (size_t i = 0; i < size && argc < 129;) {
        while (i < size && (buf[i] == ' ' || buf[i] == '\0'))
            buf[i++] = '\0';
        if (i < size)
            argv[argc++] = buf + i;
        while (i < size && buf[i] != ' ' && buf[i] != '\0')
            i++;
        if (i < size)
            buf[i++] = '\0';
    }
    argv[argc] = NULL;
    const char *str = NULL;
    size_t n = 0;
    double r = 0;
    int flag = 0, choice = -1, custom = 0, seen = 0;
    const cli_opt table[] = {
        {.names = "T", .kind = CLI_OPT_TEXT},
        {.names = "--s|-s", CLI_STRING(&str), .metavar = "S"},
        {.names = "--n", CLI_SIZE(&n), .metavar = "N", .min = 2, .max = 4000, .seen = &seen},
        {.names = "--r", CLI_REAL(&r), .metavar = "R", .lo = -1, .hi = 1, .lo_open = 1},
        {.names = "--f|-f", CLI_FLAG(&flag), .value = 3},
        {.names = "--c", CLI_CHOICE(&choice), .metavar = "C", .choices = fz_choices, .value = 5},
        {.names = "--x", .kind = CLI_OPT_CUSTOM, .dest = &custom, .metavar = "X", .parse = fz_custom},
        {.names = "--y", .kind = CLI_OPT_CUSTOM, .dest = &custom, .parse = fz_custom},
        CLI_OPT_END,
    };
    char *words[130];
    memcpy(words, argv, sizeof argv);
    size_t n_ops = 0;
    const int rc = cli_parse_args("fuzz", table, argc, argv, &n_ops, size % 2 ? CLI_ARGS_STOP_AT_OPERAND : 0);
    char **ops = argv + 1;
    if (rc != CLI_ARGS_OK && rc != CLI_ARGS_HELP && rc != CLI_ARGS_ERROR)
        abort();
    if (rc == CLI_ARGS_OK) {
        if (n_ops >= (size_t)argc || (seen && (n < 2 || n > 4000)) || (!seen && n != 0))
            abort();
        if (!(r == 0 || (r > -1 && r <= 1)) || (flag != 0 && flag != 3) || (choice != -1 && (choice < 5 || choice > 7)))
            abort();
        for (size_t i = 0; i < n_ops; i++) {
            int found = 0;
            for (int k = 1; k < argc; k++)
                found |= ops[i] == words[k];
            if (!found)
                abort();
        }
    }
    free(buf);
}

/* 5. a TSV field: no tab, newline, CR or NUL in it, and unescaping gives the bytes back */
static void tsv_roundtrip(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    if (!f)
        return;
    cli_tsv_text(f, (const char *)data, size);
    fclose(f);
    size_t k = 0;
    for (size_t i = 0; i < out_len; i++) {
        char c = out[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\0')
            abort();
        if (c == '\\') {
            if (++i == out_len)
                abort();
            switch (out[i]) {
            case '\\':
                c = '\\';
                break;
            case 't':
                c = '\t';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case '0':
                c = '\0';
                break;
            default:
                abort();
            }
        }
        if (k >= size || (char)data[k++] != c)
            abort();
    }
    if (k != size)
        abort();
    free(out);
}

/* 6. a float from 4 bytes, with 1 to 17 digits: JSON null when not finite, else a JSON number
 * within half a unit of its last digit (and the reader's rounding to a double) */
static void number_roundtrip(const uint8_t *data, size_t size)
{
    if (size < 5)
        return;
    float v;
    memcpy(&v, data, sizeof v);
    const int digits = 1 + data[4] % 17;
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    if (!f)
        return;
    cli_number(f, v, digits);
    fclose(f);
    json_error_t je;
    json_t *j = json_loadb(out, out_len, JSON_DECODE_ANY, &je);
    if (!j)
        abort();
    if (!isfinite(v)) {
        if (!json_is_null(j))
            abort();
    } else {
        if (!json_is_number(j))
            abort();
        const double x = json_number_value(j);
        if (!(fabs(x - (double)v) <= fabs((double)v) * (0.5 * pow(10.0, 1 - digits) + 0x1p-52)))
            abort();
    }
    json_decref(j);
    free(out);
}

/* 7. stripping (Python's str.strip): a sub-range of the input, what it cut is all white space (it
 * strips to nothing), and stripping the result changes nothing */
static void strip_invariants(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t n = size;
    cli_strip(&s, &n);
    const size_t head = (size_t)(s - (const char *)data);
    if (head > size || n > size - head)
        abort();
    const char *t = s;
    size_t m = n;
    cli_strip(&t, &m);
    if (t != s || m != n)
        abort();
    const char *p = (const char *)data;
    size_t pn = head;
    cli_strip(&p, &pn);
    const char *q = s + n;
    size_t qn = size - head - n;
    cli_strip(&q, &qn);
    if (pn != 0 || qn != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    /* 1. an option value (the input up to its first NUL) against a range from the first two bytes */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data + 2, size - 2);
    s[size - 2] = '\0';
    const size_t lo = data[0] % 4, hi = lo + (size_t)data[1] * 1000;
    size_t v = 0;
    double d = 0;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* the refusals' messages */
    if (!stderr) {
        stderr = saved;
        free(s);
        return 0;
    }
    if (cli_parse_range("fuzz", "--n", s, lo, hi, &v) == 0 && (v < lo || v > hi))
        abort();
    if (cli_parse_real("fuzz", "--p", s, 0.0, 1.0, 1, &d) == 0 && !(d > 0.0 && d <= 1.0))
        abort();
    parse_words(data + 2, size - 2);
    fclose(stderr);
    stderr = saved;
    /* 2. the repair: valid UTF-8 out, each bad byte three bytes longer, valid input untouched */
    char *buf = malloc(size);
    size_t cap = size, len = size, bad = 0;
    if (!buf) {
        free(s);
        return 0;
    }
    memcpy(buf, data, size);
    const int n = cli_utf8_repair(&buf, &cap, &len);
    if (n >= 0) {
        if (bert_utf8_check(buf, len, &bad) != BERT_OK || len != size + 2 * (size_t)n)
            abort();
        if (n == 0 && memcmp(buf, data, size) != 0)
            abort();
        /* 3. the repaired text as a JSON string parses back to the same bytes */
        char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);
        if (f) {
            cli_json_string(f, buf, len);
            fclose(f);
            json_error_t je;
            json_t *j = json_loadb(out, out_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            if (!j || !json_is_string(j) || json_string_length(j) != len || memcmp(json_string_value(j), buf, len))
                abort();
            json_decref(j);
            free(out);
        }
    }
    free(buf);
    free(s);
    tsv_roundtrip(data, size);
    number_roundtrip(data, size);
    strip_invariants(data, size);
    return 0;
}
