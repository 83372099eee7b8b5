/* Helpers shared by the command-line tools (not part of the library). */
#ifndef BERT_CLI_H
#define BERT_CLI_H

#include <stdio.h>

#include <bert/bert.h>

/* Exit codes of every libbert tool (documented in their --help). */
enum { CLI_OK = 0, CLI_ERR_USAGE = 2, CLI_ERR_INPUT = 3, CLI_ERR_MODEL = 4, CLI_ERR_RUNTIME = 5 };

/* The longest input line the tools read, in bytes without the newline: 256 MiB, or
 * $BERT_MAX_LINE_BYTES where set (1 or more). A line is held whole in memory, so without a bound a
 * file with no newline (/dev/zero) would grow until the system kills the process. */
size_t cli_max_line(void);
enum { CLI_LINE_EOF = 0, CLI_LINE_OK = 1, CLI_LINE_READ_ERROR = -1, CLI_LINE_TOO_LONG = -2, CLI_LINE_NOMEM = -3 };
/* Reads one line (without its '\n'; a '\r' before it is kept; NUL bytes are kept). Returns
 * CLI_LINE_OK with the line in *buf (NUL-terminated, *len bytes), CLI_LINE_EOF at end of file,
 * CLI_LINE_READ_ERROR (errno says why), CLI_LINE_TOO_LONG (over cli_max_line()) or CLI_LINE_NOMEM
 * (the line's buffer could not grow). Never ends early without saying so. */
int cli_read_line(FILE *f, char **buf, size_t *cap, size_t *len);
#ifdef CLI_TESTING
/* Tests: the line reader's allocations are counted in cli__alloc_count, and the one that makes it
 * equal to cli__alloc_fail_at fails. */
extern size_t cli__alloc_fail_at, cli__alloc_count;
#endif
/* Prints what a failed cli_read_line (r < 0) means, naming the input and the line (lineno: the
 * number of the line being read), and returns the exit code: CLI_ERR_INPUT for a read error or a
 * line over the maximum, CLI_ERR_RUNTIME for out of memory. */
int cli_line_error(const char *prog, const char *in_name, size_t lineno, int r);
/* --on-invalid replace: each byte of *buf that is not part of valid UTF-8 becomes U+FFFD (as the
 * tokenizer's replace mode does), in place, growing the buffer; so the text, its offsets and what
 * is printed agree. Returns the number of bytes replaced, or -1 when the buffer cannot grow. */
int cli_utf8_repair(char **buf, size_t *cap, size_t *len);
/* Every input gets [CLS] and [SEP]: a vocabulary without them (one made for another model) is the
 * tokenizer's fault, said once at start with CLI_ERR_MODEL, not blamed on the first input line.
 * Returns CLI_OK or CLI_ERR_MODEL (message on stderr naming source). */
int cli_check_specials(const char *prog, const bert_tokenizer *tok, const char *source);
/* Writes s[0..n) as a JSON string (quotes included). Bytes >= 0x80 are copied as they are, so the
 * output is valid JSON when s is valid UTF-8. */
void cli_json_string(FILE *out, const char *s, size_t n);
/* Writes s[0..n) as one TSV field: backslash, tab, newline, carriage return and NUL become \\, \t,
 * \n, \r and \0, so a text (a JSONL input's may hold any of them) never splits a row or a field. */
void cli_tsv_text(FILE *out, const char *s, size_t n);
/* Narrows s[0..n) to the text without leading and trailing white space, as Python's str.strip()
 * (what sentence-transformers does to each text before tokenizing it). */
void cli_strip(const char **s, size_t *n);
/* Writes v with `digits` significant digits (printf's %g) for a JSON or TSV number; NaN and the
 * infinities, which JSON has no number for, are written as null. A float, not a double: rounded to
 * fewer digits, a double near DBL_MAX would print past it (1.7e308 with one digit is 2e+308, which
 * no JSON reader takes as a number); a float's largest rounds to 3e+38, still a finite double. */
void cli_number(FILE *out, float v, int digits);
/* A bert_log_fn that prints "prog: level: msg" to stderr; user is the program name. */
void cli_log_stderr(bert_log_level level, const char *msg, void *user);
/* The embedded default model folder: $BERT_MODEL_DIR if set, else <exe dir>/../share/libbert/models/
 * mini-sst2 (an installed tool, wherever the prefix is), else the source tree's models/mini-sst2 (a
 * tool run from the build tree). Returns a static string. */
const char *cli_default_model(void);
/* A checkpoint is read in place from its mapping (its F32 embedding tables; every F32 weight with
 * --weights mapped), so a file truncated under a running tool makes the next read of a lost page
 * SIGBUS. From this call on, that signal ends the process with a message naming the cause and
 * CLI_ERR_MODEL instead of the shell's "Bus error" (exit 135). prog must stay valid. */
void cli_catch_sigbus(const char *prog);
/* Seconds on the monotonic clock (for rates, ETAs and benchmarks). */
double cli_now(void);
/* qsort comparator for doubles, ascending (medians of repeated timings). */
int cli_cmp_double(const void *a, const void *b);
/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_size(const char *s, size_t *out);
/* The ranges of the tools' numeric options, listed in their --help. Threads beyond a few thousand
 * crashed inside libgomp; a column, batch or k beyond these is a typo, not a request. */
#define CLI_MAX_THREADS 1024
#define CLI_MAX_COLUMN  65535
#define CLI_MAX_BATCH   4096
#define CLI_MAX_TOP_K   1000
#define CLI_MAX_LENGTH  1048576
/* An integer option value in [min, max] -> *out; -1, with "PROG: OPT: 'S' is not an integer from
 * MIN to MAX" on stderr, for anything else (signs, trailing text, overflow, out of range). */
int cli_parse_range(const char *prog, const char *opt, const char *s, size_t min, size_t max, size_t *out);
/* A number option value in (lo, hi] (lo_open) or [lo, hi] -> *out; -1 with a message otherwise. */
int cli_parse_real(const char *prog, const char *opt, const char *s, double lo, double hi, int lo_open, double *out);
/* "f32", "bf16" or "int8" -> *out; -1 (and a message on stderr naming opt) otherwise. */
int cli_parse_precision(const char *prog, const char *opt, const char *s, bert_precision *out);
/* "packed" or "mapped" -> *out; -1 (and a message on stderr naming opt) otherwise. */
int cli_parse_weights(const char *prog, const char *opt, const char *s, bert_weights *out);

#endif
