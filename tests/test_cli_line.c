#define _POSIX_C_SOURCE 200809L /* fmemopen, open_memstream */
/* The tools' line reader (tools/common/cli.c) when its memory runs out: each of its allocations
 * fails in turn, over a file whose lines make it grow, and every run must end with
 * CLI_LINE_NOMEM at the line being read (never a shorter line, never an early end of file), whose
 * message names the input and the line and whose exit code is CLI_ERR_RUNTIME. The UTF-8 repair of
 * --on-invalid replace is walked the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

/* Lines of 5 bytes, 100,000 bytes (the buffer doubles several times), 0 and 3,000 bytes. */
static char *make_input(size_t *size, size_t *lens, size_t *n_lines)
{
    static const size_t want[] = {5, 100000, 0, 3000};
    *n_lines = 4;
    size_t total = 0;
    for (size_t i = 0; i < 4; i++)
        total += want[i] + 1;
    char *s = malloc(total);
    assert_non_null(s);
    size_t at = 0;
    for (size_t i = 0; i < 4; i++) {
        lens[i] = want[i];
        for (size_t k = 0; k < want[i]; k++)
            s[at++] = (char)('a' + (i * 7 + k) % 26);
        s[at++] = '\n';
    }
    *size = total;
    return s;
}

static void test_every_allocation_fails_in_turn(void **state)
{
    (void)state;
    size_t size, lens[4], n_lines;
    char *input = make_input(&size, lens, &n_lines);
    size_t runs = 0, failed_runs = 0;
    for (size_t fail_at = 1;; fail_at++) {
        FILE *f = fmemopen(input, size, "r");
        assert_non_null(f);
        cli__alloc_count = 0;
        cli__alloc_fail_at = fail_at;
        char *buf = NULL;
        size_t cap = 0, len = 0, lineno = 0, at = 0;
        int r;
        while ((r = cli_read_line(f, &buf, &cap, &len)) == CLI_LINE_OK) {
            /* a line that is read is the whole line */
            assert_true(lineno < n_lines);
            assert_int_equal(len, lens[lineno]);
            assert_memory_equal(buf, input + at, len);
            at += len + 1;
            lineno++;
        }
        fclose(f);
        runs++;
        const int injected = cli__alloc_count >= fail_at;
        if (!injected) {
            /* past the last allocation: the whole file was read, as with no failure */
            assert_int_equal(r, CLI_LINE_EOF);
            assert_int_equal(lineno, n_lines);
            free(buf);
            break;
        }
        failed_runs++;
        assert_int_equal(r, CLI_LINE_NOMEM);
        assert_true(lineno < n_lines);
        /* the message names the input and the line being read; the code is exit 5 */
        char *msg = NULL;
        size_t msg_len = 0;
        FILE *saved = stderr;
        stderr = open_memstream(&msg, &msg_len);
        assert_non_null(stderr);
        const int code = cli_line_error("tool", "in.txt", lineno + 1, r);
        fclose(stderr);
        stderr = saved;
        char want[64];
        snprintf(want, sizeof want, "tool: in.txt:%zu: out of memory reading the line\n", lineno + 1);
        assert_string_equal(msg, want);
        assert_int_equal(code, CLI_ERR_RUNTIME);
        free(msg);
        free(buf);
    }
    cli__alloc_fail_at = 0;
    /* the 100,000-byte line alone takes several doublings from 256 bytes */
    assert_true(failed_runs >= 8);
    assert_int_equal(runs, failed_runs + 1);
    free(input);
}

static void test_repair_allocation_fails_cleanly(void **state)
{
    (void)state;
    const char bad[] = "ab\xff"
                       "cd";
    char *buf = malloc(sizeof bad);
    assert_non_null(buf);
    memcpy(buf, bad, sizeof bad);
    size_t cap = sizeof bad, len = sizeof bad - 1;
    cli__alloc_count = 0;
    cli__alloc_fail_at = 1;
    assert_int_equal(cli_utf8_repair(&buf, &cap, &len), -1);
    /* the line is left as it was */
    assert_int_equal(len, sizeof bad - 1);
    assert_memory_equal(buf, bad, len);
    cli__alloc_fail_at = 0;
    assert_int_equal(cli_utf8_repair(&buf, &cap, &len), 1);
    assert_int_equal(len, sizeof bad - 1 + 2);
    assert_memory_equal(buf,
                        "ab\xef\xbf\xbd"
                        "cd",
                        len);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_in_turn),
        cmocka_unit_test(test_repair_allocation_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
