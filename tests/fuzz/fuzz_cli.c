/* libFuzzer target: the tools' helpers around the parsers, where bytes from the command line or
 * the input end up: numeric option values against their ranges, --on-invalid replace's UTF-8
 * repair, the lone-surrogate fix of JSONL lines, and JSON string output (which must parse back to
 * the very bytes written). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bert/bert.h>

#include "cli.h"
#include "fuzz.h"

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
    return 0;
}
