/* Input records of bert-classify: one per line, as plain text, TSV columns or JSONL fields. Pure
 * functions over a line in memory, so the same code is what the fuzzer exercises. */
#ifndef BERT_READER_H
#define BERT_READER_H

#include <stddef.h>

typedef enum { READER_TEXT = 0, READER_TSV = 1, READER_JSONL = 2 } reader_format;

typedef struct reader_opts {
    reader_format format;
    size_t text_col, pair_col, label_col;              /* TSV, 1-based; 0 = none */
    const char *text_field, *pair_field, *label_field; /* JSONL; NULL = none */
} reader_opts;

/* One record. For TEXT and TSV the views point into the line; for JSONL into `owned` storage that
 * reader_parse fills and reader_record_free releases. */
typedef struct reader_record {
    const char *a, *b, *label;
    size_t a_len, b_len, label_len;
    void *owned;
} reader_record;

/* Parses one line (without its newline; a trailing '\r' is dropped). Returns 0, or -1 with a
 * message in err ("column 3 is missing (the line has 2)", "invalid JSON at column 7: ..."). */
int reader_parse(const reader_opts *o, const char *line, size_t len, reader_record *rec, char *err, size_t err_size);
void reader_record_free(reader_record *rec);

/* A reranking group, one JSONL line {"query": "...", "passages": ["...", ...]}: views into `owned`
 * (a parsed JSON value) that reader_group_free releases. */
typedef struct reader_group {
    const char *query;
    size_t query_len;
    const char **passages;
    size_t *passage_lens;
    size_t n;
    void *owned;
} reader_group;
/* Parses a group line with the fields qfield and pfield; -1 with err naming the field on a
 * missing or mis-typed field or an empty passage list. */
int reader_parse_group(const char *line, size_t len, const char *qfield, const char *pfield, reader_group *g, char *err,
                       size_t err_size);
void reader_group_free(reader_group *g);
/* JSON \uXXXX escapes of lone surrogates (\ud800 with no low half after it, or a low half alone)
 * name no character, and the JSON parser refuses the line. Counts them in line[0..len) and, with
 * fix, rewrites each as \ufffd in place (the same length). */
size_t reader_lone_surrogates(char *line, size_t len, int fix);

#endif
