/* The tools' table-driven option parser (see opts.h). */
#include "opts.h"

#include <string.h>

#include "cli.h"

/* Whether arg (up to '=' or its end, length n) is one of o's '|'-separated names. */
static int has_name(const cli_opt *o, const char *arg, size_t n)
{
    for (const char *p = o->names; p && *p;) {
        const char *bar = strchr(p, '|');
        const size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, arg, n))
            return 1;
        p = bar ? bar + 1 : p + len;
    }
    return 0;
}

/* The option's first name, for messages, into buf. */
static const char *first_name(const cli_opt *o, char *buf, size_t cap)
{
    const size_t len = strcspn(o->names, "|");
    snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), o->names);
    return buf;
}

const char *cli_opt_range(const cli_opt *o, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (o->kind == CLI_OPT_SIZE) {
        snprintf(buf, cap, "%zu-%zu", o->min, o->max);
    } else if (o->kind == CLI_OPT_REAL) {
        snprintf(buf, cap, "in %c%g, %g]", o->lo_open ? '(' : '[', o->lo, o->hi);
    } else if (o->kind == CLI_OPT_CHOICE && o->choices) {
        size_t n = 0, used = 0;
        while (o->choices[n])
            n++;
        for (size_t i = 0; i < n && used < cap; i++) {
            const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
            const int w = snprintf(buf + used, cap - used, "%s%s", sep, o->choices[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
    }
    return buf;
}

static int set_value(const char *prog, const cli_opt *o, const char *name, const char *v)
{
    switch (o->kind) {
    case CLI_OPT_STRING:
        *(const char **)o->dest = v;
        return 0;
    case CLI_OPT_SIZE:
        return cli_parse_range(prog, name, v, o->min, o->max, (size_t *)o->dest);
    case CLI_OPT_REAL:
        return cli_parse_real(prog, name, v, o->lo, o->hi, o->lo_open, (double *)o->dest);
    case CLI_OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++)
            if (!strcmp(o->choices[i], v)) {
                *(int *)o->dest = o->value + i;
                return 0;
            }
        {
            char range[512];
            fprintf(stderr, "%s: %s: '%s' is not %s\n", prog, name, v, cli_opt_range(o, range, sizeof range));
        }
        return -1;
    case CLI_OPT_CUSTOM:
        return o->parse(prog, name, v, o->dest);
    default:
        return -1;
    }
}

int cli_parse_args(const char *prog, const cli_opt *opts, int argc, char **argv, size_t *n_operands, int flags)
{
    *n_operands = 0;
    int options_end = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_end || a[0] != '-' || !a[1]) {
            /* slot 1 + n is at or before i: only words already read are overwritten */
            argv[1 + (*n_operands)++] = argv[i];
            if (flags & CLI_ARGS_STOP_AT_OPERAND)
                options_end = 1;
            continue;
        }
        if (!strcmp(a, "--")) {
            options_end = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return CLI_ARGS_HELP;
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        const size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = opts;
        while (o->names && (o->kind == CLI_OPT_TEXT || !has_name(o, a, n)))
            o++;
        if (!o->names) {
            fprintf(stderr, "%s: unknown option '%.*s' (see --help)\n", prog, (int)n, a);
            return CLI_ARGS_ERROR;
        }
        char name[64];
        first_name(o, name, sizeof name);
        const int takes_value = o->kind != CLI_OPT_FLAG && !(o->kind == CLI_OPT_CUSTOM && !o->metavar);
        const char *v = NULL;
        if (!takes_value) {
            if (eq) {
                fprintf(stderr, "%s: %s takes no value ('%s')\n", prog, name, a);
                return CLI_ARGS_ERROR;
            }
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "%s: %s needs a value (%s)\n", prog, name, o->metavar);
            return CLI_ARGS_ERROR;
        }
        if (o->kind == CLI_OPT_FLAG)
            *(int *)o->dest = o->value;
        else if (set_value(prog, o, name, v) != 0)
            return CLI_ARGS_ERROR;
        if (o->seen)
            *o->seen = 1;
    }
    return CLI_ARGS_OK;
}

const char *const cli_precisions[] = {"f32", "bf16", "int8", NULL};
const char *const cli_weight_modes[] = {"packed", "mapped", NULL};

int cli_parse_file_args(const char *prog, const cli_opt *opts, int argc, char **argv, const char **file)
{
    size_t n = 0;
    int r = cli_parse_args(prog, opts, argc, argv, &n, 0);
    if (r == CLI_ARGS_OK && n > 1) {
        fprintf(stderr, "%s: more than one input file ('%s', '%s')\n", prog, argv[1], argv[2]);
        r = CLI_ARGS_ERROR;
    }
    *file = r == CLI_ARGS_OK && n ? argv[1] : NULL;
    return r;
}

enum { HELP_COLUMN = 25 };

/* Prints one option's names, metavar and help (with %r replaced). */
static void print_option(FILE *out, const cli_opt *o)
{
    char head[256], range[512];
    size_t used = 0;
    for (const char *p = o->names; *p && used + 8 < sizeof head; p++)
        used += (size_t)snprintf(head + used, sizeof head - used, *p == '|' ? ", " : "%c", *p);
    if (o->metavar)
        snprintf(head + used, sizeof head - used, " %s", o->metavar);
    cli_opt_range(o, range, sizeof range);
    const int width = fprintf(out, "    %s", head);
    if (width >= HELP_COLUMN - 1)
        fprintf(out, "\n%*s", HELP_COLUMN - 1, "");
    else
        fprintf(out, "%*s", HELP_COLUMN - 1 - width, "");
    const char *h = o->help ? o->help : "";
    const int has_r = strstr(h, "%r") != NULL;
    for (; *h; h++) {
        if (h[0] == '%' && h[1] == 'r') {
            fputs(range, out);
            h++;
        } else if (*h == '\n') {
            fprintf(out, "\n%*s", HELP_COLUMN - 1, "");
        } else {
            fputc(*h, out);
        }
    }
    if (!has_r && range[0])
        fprintf(out, " (%s)", range);
    fputc('\n', out);
}

void cli_print_options(FILE *out, const cli_opt *opts)
{
    for (const cli_opt *o = opts; o->names; o++) {
        if (o->kind == CLI_OPT_TEXT)
            fprintf(out, "%s\n", o->names);
        else
            print_option(out, o);
    }
    fprintf(out, "    -h, --help%*sthis text\n", HELP_COLUMN - 1 - 14, "");
}
