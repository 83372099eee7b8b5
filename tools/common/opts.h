/* The tools' one option parser: each tool describes its options as a table, and the same table
 * parses argv, checks every value against its range or choices, and prints the OPTIONS part of
 * --help, so a range cannot be enforced in one place and documented differently in another. */
#ifndef BERT_CLI_OPTS_H
#define BERT_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

typedef enum cli_opt_kind {
    CLI_OPT_TEXT,   /* no option: a line of --help (a heading, a note); names is the text */
    CLI_OPT_FLAG,   /* no value: *(int *)dest = value */
    CLI_OPT_STRING, /* *(const char **)dest = the value (argv's own string) */
    CLI_OPT_SIZE,   /* *(size_t *)dest = an integer in [min, max] */
    CLI_OPT_REAL,   /* *(double *)dest = a finite number in [lo, hi], or (lo, hi] with lo_open */
    CLI_OPT_CHOICE, /* *(int *)dest = value + the index of the value among choices */
    CLI_OPT_CUSTOM  /* parse(prog, option, value, dest): 0 or -1 after a message; no value when
                       metavar is NULL (then value is NULL) */
} cli_opt_kind;

typedef struct cli_opt {
    const char *names; /* "--threads", or "--quiet|-q" (the first is the one messages name) */
    cli_opt_kind kind;
    void *dest;
    const char *metavar; /* "N" in --help; NULL for options without a value */
    const char *help;    /* --help's text; '\n' starts a new line under it. "%r" is replaced by the
                            range or the choices; without "%r" they are added at the end */
    size_t min, max;
    double lo, hi;
    int lo_open;
    const char *const *choices; /* NULL-terminated */
    int value;
    int (*parse)(const char *prog, const char *opt, const char *value, void *dest);
    int *seen; /* where set, 1 once the option is given */
} cli_opt;

/* An option's kind and destination together, the destination's type checked by the compiler (a
 * size option writing into an int would overwrite its neighbour): {.names = "--n", CLI_SIZE(&n), ...} */
#define CLI_SIZE(p)   .kind = CLI_OPT_SIZE, .dest = _Generic((p), size_t * : (p))
#define CLI_REAL(p)   .kind = CLI_OPT_REAL, .dest = _Generic((p), double * : (p))
#define CLI_FLAG(p)   .kind = CLI_OPT_FLAG, .dest = _Generic((p), int * : (p))
#define CLI_CHOICE(p) .kind = CLI_OPT_CHOICE, .dest = _Generic((p), int * : (p))
#define CLI_STRING(p) .kind = CLI_OPT_STRING, .dest = _Generic((p), const char ** : (p))

/* The end of a table (every table ends with it). */
#define CLI_OPT_END                                                              \
    {                                                                            \
        NULL, CLI_OPT_TEXT, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL, NULL \
    }

enum {
    CLI_ARGS_OK = 0,
    CLI_ARGS_HELP = 1,   /* -h or --help was given: print the help, exit 0 */
    CLI_ARGS_ERROR = -1, /* a message naming the option is on stderr: exit with CLI_ERR_USAGE */
};
/* Flags of cli_parse_args. */
enum { CLI_ARGS_STOP_AT_OPERAND = 1 }; /* the first operand ends the options (prompt words) */

/* Parses argv[1..argc): options from the table anywhere (unless CLI_ARGS_STOP_AT_OPERAND), in the
 * form "--name VALUE" or "--name=VALUE", later ones overriding earlier ones; "--" ends the
 * options. The operands (what is not an option or its value) are moved, in order, to
 * argv[1..1 + *n_operands) (argv's own strings; no allocation). -h and --help are every tool's.
 * Returns CLI_ARGS_*; an unknown option, a missing value, a value outside its range, one not among
 * the choices, or a value given to a flag is CLI_ARGS_ERROR with "PROG: OPTION: ..." on stderr. */
int cli_parse_args(const char *prog, const cli_opt *opts, int argc, char **argv, size_t *n_operands, int flags);

/* One input FILE at most: cli_parse_args, then *file = the operand (NULL without one); a second
 * operand is CLI_ARGS_ERROR ("more than one input file"). */
int cli_parse_file_args(const char *prog, const cli_opt *opts, int argc, char **argv, const char **file);

/* The rows every tool that runs a model shares (their ranges and choices in one place). */
extern const char *const cli_precisions[];   /* f32 bf16 int8: bert_precision's order */
extern const char *const cli_weight_modes[]; /* packed mapped: bert_weights' order */
#define CLI_OPT_THREADS(d)                                                                                         \
    {                                                                                                              \
        .names = "--threads", .kind = CLI_OPT_SIZE, .dest = (d), .metavar = "N", .min = 1, .max = CLI_MAX_THREADS, \
        .help = "compute threads, %r (default: all)"                                                               \
    }
#define CLI_OPT_PRECISION(d)                                                                                    \
    {                                                                                                           \
        .names = "--precision", .kind = CLI_OPT_CHOICE, .dest = (d), .metavar = "P", .choices = cli_precisions, \
        .help = "%r: the encoder's matrix products (default f32;\nbf16 wants AMX; docs/performance.md)"         \
    }
#define CLI_OPT_WEIGHTS(d)                                                                                          \
    {                                                                                                               \
        .names = "--weights", .kind = CLI_OPT_CHOICE, .dest = (d), .metavar = "W", .choices = cli_weight_modes,     \
        .help = "%r: an F32 checkpoint's weights copied at load\n(packed, default) or read in place from the file " \
                "(mapped:\nloads several times faster, products a little slower)"                                   \
    }
#define CLI_OPT_VERBOSE(d)                                                                             \
    {                                                                                                  \
        .names = "-v", .kind = CLI_OPT_FLAG, .dest = (d), .value = 1, .help = "library logs on stderr" \
    }

/* Prints the table as --help's option lines: names and metavar, then the help at column 25, with
 * the ranges and choices written in; -h, --help last. */
void cli_print_options(FILE *out, const cli_opt *opts);

/* The text "%r" stands for in an option's help ("1-1024", "in (0, 1]", "a, b or c") into
 * buf[0..cap); returns buf ("" for options without a range). */
const char *cli_opt_range(const cli_opt *o, char *buf, size_t cap);

#endif
