#define _POSIX_C_SOURCE 200809L /* open_memstream */
/* The tools' option parser (tools/common/opts.c): every form a value can take, every refusal,
 * and the --help lines made from the same table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "opts.h"

static const char *const colours[] = {"red", "green", "blue", NULL};

typedef struct vals {
    const char *name;
    size_t n;
    double p;
    int flag, colour, seen_n, custom_calls;
    const char *custom_value;
} vals;

static int custom(const char *prog, const char *opt, const char *value, void *dest)
{
    (void)prog, (void)opt;
    vals *v = dest;
    v->custom_calls++;
    v->custom_value = value;
    return value && !strcmp(value, "bad") ? -1 : 0;
}

static void table(vals *v, cli_opt *t)
{
    const cli_opt o[] = {
        {.names = "HEADING", .kind = CLI_OPT_TEXT},
        {.names = "--name", CLI_STRING(&v->name), .metavar = "S", .help = "a string"},
        {.names = "--count|-n",
         CLI_SIZE(&v->n),
         .metavar = "N",
         .min = 1,
         .max = 1024,
         .seen = &v->seen_n,
         .help = "a count, %r (default 3)"},
        {.names = "--prob",
         CLI_REAL(&v->p),
         .metavar = "P",
         .lo = 0,
         .hi = 1,
         .lo_open = 1,
         .help = "a probability"},
        {.names = "--flag", CLI_FLAG(&v->flag), .value = 7, .help = "a flag\nsecond line"},
        {.names = "--colour",
         CLI_CHOICE(&v->colour),
         .metavar = "C",
         .choices = colours,
         .value = 10,
         .help = "%r"},
        {.names = "--custom", .kind = CLI_OPT_CUSTOM, .dest = v, .metavar = "X", .parse = custom, .help = "custom"},
        {.names = "--action", .kind = CLI_OPT_CUSTOM, .dest = v, .parse = custom, .help = "no value"},
        CLI_OPT_END,
    };
    memcpy(t, o, sizeof o);
}

/* Parses the words of line (space-separated) as argv after a program name; *ops is then argv + 1,
 * where the parser moved the operands. */
static int parse(vals *v, const char *line, char ***ops, size_t *n_ops, int flags)
{
    static char buf[512];
    static char *argv[64];
    int argc = 0;
    argv[argc++] = "prog";
    snprintf(buf, sizeof buf, "%s", line);
    for (char *p = strtok(buf, " "); p && argc < 63; p = strtok(NULL, " "))
        argv[argc++] = p;
    argv[argc] = NULL;
    memset(v, 0, sizeof *v);
    cli_opt t[16];
    table(v, t);
    *ops = argv + 1;
    return cli_parse_args("prog", t, argc, argv, n_ops, flags);
}

static void test_values_in_every_form(void **state)
{
    (void)state;
    vals v;
    char **ops = NULL;
    size_t n = 0;
    assert_int_equal(parse(&v, "--name x --count 5 --prob=0.5 --flag --colour blue in.txt", &ops, &n, 0), CLI_ARGS_OK);
    assert_string_equal(v.name, "x");
    assert_int_equal(v.n, 5);
    assert_true(v.p == 0.5);
    assert_int_equal(v.flag, 7);
    assert_int_equal(v.colour, 12); /* value + index */
    assert_int_equal(v.seen_n, 1);
    assert_int_equal(n, 1);
    assert_string_equal(ops[0], "in.txt");
    /* the short alias, the later value winning, = with an empty string value */
    assert_int_equal(parse(&v, "-n 2 --count=9 --name=", &ops, &n, 0), CLI_ARGS_OK);
    assert_int_equal(v.n, 9);
    assert_string_equal(v.name, "");
    /* a value may start with '-': it is the option's value, as getopt takes it */
    assert_int_equal(parse(&v, "--name -x", &ops, &n, 0), CLI_ARGS_OK);
    assert_string_equal(v.name, "-x");
    /* custom options with and without a value */
    assert_int_equal(parse(&v, "--custom abc --action", &ops, &n, 0), CLI_ARGS_OK);
    assert_int_equal(v.custom_calls, 2);
    assert_null(v.custom_value);
    assert_int_equal(v.seen_n, 0);
}

static void test_operands(void **state)
{
    (void)state;
    vals v;
    char **ops = NULL;
    size_t n = 0;
    /* options anywhere, operands kept in order; '-' alone is an operand (standard input) */
    assert_int_equal(parse(&v, "a --flag b - --count 3 c", &ops, &n, 0), CLI_ARGS_OK);
    assert_int_equal(n, 4);
    assert_string_equal(ops[0], "a");
    assert_string_equal(ops[1], "b");
    assert_string_equal(ops[2], "-");
    assert_string_equal(ops[3], "c");
    assert_int_equal(v.n, 3);
    /* "--" ends the options */
    assert_int_equal(parse(&v, "--flag -- --count -n", &ops, &n, 0), CLI_ARGS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ops[0], "--count");
    assert_string_equal(ops[1], "-n");
    assert_int_equal(v.n, 0);
    /* with STOP_AT_OPERAND the first operand ends them (prompt words that look like options) */
    assert_int_equal(parse(&v, "--flag the --count 3", &ops, &n, CLI_ARGS_STOP_AT_OPERAND), CLI_ARGS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ops[1], "--count");
    assert_int_equal(v.n, 0);
    assert_int_equal(v.flag, 7);
}

static void test_refusals(void **state)
{
    (void)state;
    vals v;
    char **ops = NULL;
    size_t n = 0;
    const char *bad[] = {
        "--unknown",          "-x",           "--count",
        "--count 0",          "--count 1025", "--count -1",
        "--count 1e3",        "--count 3x",   "--count 18446744073709551617",
        "--count 4294967297", "--prob 0",     "--prob 1.5",
        "--prob nan",         "--prob inf",   "--prob x",
        "--colour pink",      "--colour",     "--flag=1",
        "--custom bad",       "--action=1",   "--name",
        "--coun 3",           "--count= ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const int r = parse(&v, bad[i], &ops, &n, 0);
        if (r != CLI_ARGS_ERROR)
            fail_msg("'%s' was accepted", bad[i]);
    }
    /* out of range leaves the old value */
    assert_int_equal(parse(&v, "--count 4 --count 2000", &ops, &n, 0), CLI_ARGS_ERROR);
    assert_int_equal(v.n, 4);
    assert_int_equal(parse(&v, "--count 3 -h", &ops, &n, 0), CLI_ARGS_HELP);
    assert_int_equal(parse(&v, "--help", &ops, &n, 0), CLI_ARGS_HELP);
    /* after "--", -h is an operand */
    assert_int_equal(parse(&v, "-- -h", &ops, &n, 0), CLI_ARGS_OK);
}

static void test_help_lines_carry_the_ranges(void **state)
{
    (void)state;
    vals v;
    cli_opt t[16];
    table(&v, t);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cli_print_options(f, t);
    fclose(f);
    assert_non_null(strstr(buf, "HEADING\n"));
    assert_non_null(strstr(buf, "    --count, -n N       a count, 1-1024 (default 3)\n"));
    assert_non_null(strstr(buf, "    --prob P            a probability (in (0, 1])\n"));
    assert_non_null(strstr(buf, "    --flag              a flag\n                        second line\n"));
    assert_non_null(strstr(buf, "    --colour C          red, green or blue\n"));
    assert_non_null(strstr(buf, "    -h, --help          this text\n"));
    /* no %r is left unexpanded */
    assert_null(strstr(buf, "%r"));
    free(buf);
    char r[64];
    assert_string_equal(cli_opt_range(&t[2], r, sizeof r), "1-1024");
    assert_string_equal(cli_opt_range(&t[1], r, sizeof r), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_in_every_form),
        cmocka_unit_test(test_operands),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_help_lines_carry_the_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
