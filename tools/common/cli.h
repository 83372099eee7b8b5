/* Helpers shared by the command-line tools (not part of the library). */
#ifndef BERT_CLI_H
#define BERT_CLI_H

#include <stdio.h>

#include <bert/bert.h>

/* Exit codes of every libbert tool (documented in their --help). */
enum { CLI_OK = 0, CLI_ERR_USAGE = 2, CLI_ERR_INPUT = 3, CLI_ERR_MODEL = 4, CLI_ERR_RUNTIME = 5 };

/* Reads one line (without its '\n'; a '\r' before it is kept) of any length. Returns 1 with the
 * line in *buf (NUL-terminated, *len bytes), 0 at end of file, -1 on a read error. */
int cli_read_line(FILE *f, char **buf, size_t *cap, size_t *len);
/* Writes s[0..n) as a JSON string (quotes included). Bytes >= 0x80 are copied as they are, so the
 * output is valid JSON when s is valid UTF-8. */
void cli_json_string(FILE *out, const char *s, size_t n);
/* A bert_log_fn that prints "prog: level: msg" to stderr; user is the program name. */
void cli_log_stderr(bert_log_level level, const char *msg, void *user);
/* The embedded default model folder: $BERT_MODEL_DIR if set, else <exe dir>/../share/libbert/models/
 * mini-sst2 (an installed tool, wherever the prefix is), else the source tree's models/mini-sst2 (a
 * tool run from the build tree). Returns a static string. */
const char *cli_default_model(void);
/* Seconds on the monotonic clock (for rates, ETAs and benchmarks). */
double cli_now(void);
/* qsort comparator for doubles, ascending (medians of repeated timings). */
int cli_cmp_double(const void *a, const void *b);
/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_size(const char *s, size_t *out);
/* "f32", "bf16" or "int8" -> *out; -1 (and a message on stderr naming opt) otherwise. */
int cli_parse_precision(const char *prog, const char *opt, const char *s, bert_precision *out);
/* "packed" or "mapped" -> *out; -1 (and a message on stderr naming opt) otherwise. */
int cli_parse_weights(const char *prog, const char *opt, const char *s, bert_weights *out);

#endif
