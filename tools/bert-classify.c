/* bert-classify: runs a checkpoint's head over a text file, one result per input line (a reranking
 * group per JSONL line with --task rerank). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bert/bert.h>

#include "cli.h"
#include "opts.h"
#include "reader.h"

static const char *prog = "bert-classify";

typedef struct opts {
    const char *model, *input, *task, *prompt, *labels, *template_;
    reader_opts rd;
    int header, on_invalid, jsonl_out, format_set, line_numbers, quiet, verbose, normalize, multi_label, softmax;
    size_t top_k, batch, threads, max_length, shard_i, shard_n;
    bert_precision precision;
    bert_weights weights;
    int top_k_set;
    bert_truncation truncation;
    bert_aggregation aggregation;
    bert_pooling pooling;
} opts;

static const char *const input_formats[] = {"text", "tsv", "jsonl", NULL};
static const char *const invalid_policies[] = {"error", "replace", "skip", NULL};
static const char *const output_formats[] = {"tsv", "jsonl", NULL};
static const char *const aggregations[] = {"none", "simple", "first", "average", "max", NULL};
/* in bert_pooling's order */
static const char *const poolings[] = {"cls",           "mean",         "pooler",    "max",
                                       "mean_sqrt_len", "weightedmean", "lasttoken", NULL};
static const char *const truncations[] = {"longest_first", "only_first", "only_second", NULL};

/* --pair: the TSV columns of a sentence pair */
static int set_pair(const char *p, const char *opt, const char *value, void *dest)
{
    (void)p, (void)opt, (void)value;
    reader_opts *rd = dest;
    rd->format = READER_TSV;
    rd->text_col = 1;
    rd->pair_col = 2;
    return 0;
}

/* --shard I/N */
static int set_shard(const char *p, const char *opt, const char *v, void *dest)
{
    opts *o = dest;
    unsigned long long si, sn;
    char tail;
    if (sscanf(v, "%llu/%llu%c", &si, &sn, &tail) != 2 || v[0] == '-' || strchr(v, '-') || sn == 0 || si >= sn ||
        sn > SIZE_MAX) {
        fprintf(stderr, "%s: %s: '%s' is not I/N with 0 <= I < N\n", p, opt, v);
        return -1;
    }
    o->shard_i = (size_t)si;
    o->shard_n = (size_t)sn;
    o->line_numbers = 1;
    return 0;
}

/* The option values that are enums in opts, parsed as choice indices. */
typedef struct choices {
    int input, aggregation, pooling, truncation, precision, weights;
} choices;

static void usage(FILE *out, const cli_opt *table);

/* Parses argv into o with the options' table (opts.h), which also writes --help's option lines.
 * Returns CLI_ARGS_OK, CLI_ARGS_HELP (help printed) or CLI_ARGS_ERROR (message printed). */
static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->top_k = 1;
    o->rd.text_col = 1;
    choices ch = {
        -1, BERT_AGG_SIMPLE, BERT_POOL_AUTO, BERT_TRUNCATION_LONGEST_FIRST, BERT_PRECISION_F32, BERT_WEIGHTS_PACKED};
    choices *c = &ch;
    const cli_opt table[] = {
        {.names = "INPUT", .kind = CLI_OPT_TEXT},
        {.names = "--input",
         CLI_CHOICE(&c->input),
         .metavar = "FMT",
         .choices = input_formats,
         .help = "%r (default text: the whole line is the text)"},
        {.names = "--pair",
         .kind = CLI_OPT_CUSTOM,
         .dest = &o->rd,
         .parse = set_pair,
         .help = "TSV sentence pairs: text_a<TAB>text_b (same as --input tsv\n--text-col 1 --pair-col 2)"},
        {.names = "--text-col",
         CLI_SIZE(&o->rd.text_col),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_COLUMN,
         .help = "TSV column of the text, %r (default 1; no quoting)"},
        {.names = "--pair-col",
         CLI_SIZE(&o->rd.pair_col),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_COLUMN,
         .help = "TSV column of the second text, %r"},
        {.names = "--label-col",
         CLI_SIZE(&o->rd.label_col),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_COLUMN,
         .help = "TSV column of the gold label, %r"},
        {.names = "--text-field",
         CLI_STRING(&o->rd.text_field),
         .metavar = "F",
         .help = "JSONL field of the text (default \"text\")"},
        {.names = "--pair-field",
         CLI_STRING(&o->rd.pair_field),
         .metavar = "F",
         .help = "JSONL field of the second text"},
        {.names = "--label-field",
         CLI_STRING(&o->rd.label_field),
         .metavar = "F",
         .help = "JSONL field of the gold label"},
        {.names = "--header", CLI_FLAG(&o->header), .value = 1, .help = "skip the first line"},
        {.names = "--on-invalid",
         CLI_CHOICE(&o->on_invalid),
         .metavar = "P",
         .choices = invalid_policies,
         .help = "malformed UTF-8: %r. error (default) names the line\nand byte; replace: bad bytes become "
                 "U+FFFD; skip: the line,\nwith a warning"},
        {.names = "    With a label column/field, the gold labels (names, or ids) are compared with the\n"
                  "    predictions and the accuracy is printed on stderr at the end.\n"
                  "    A line may hold at most 256 MiB (environment: BERT_MAX_LINE_BYTES); a longer one is an\n"
                  "    error naming it.\n\n"
                  "OUTPUT",
         .kind = CLI_OPT_TEXT},
        {.names = "--format",
         CLI_CHOICE(&o->jsonl_out),
         .metavar = "F",
         .choices = output_formats,
         .seen = &o->format_set,
         .help = "%r: tsv (default for classify/embed) or jsonl (every\nlabel's score; ner and fill-mask's only "
                 "format)"},
        {.names = "--top-k",
         CLI_SIZE(&o->top_k),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_TOP_K,
         .seen = &o->top_k_set,
         .help = "classify: N best labels (TSV: LABEL<TAB>SCORE pairs; all of\nthem when N is more); fill-mask: N "
                 "predictions per mask\n(default 5); %r"},
        {.names = "--aggregation",
         CLI_CHOICE(&c->aggregation),
         .metavar = "A",
         .choices = aggregations,
         .help = "ner: %r (default simple; Hugging Face's)"},
        {.names = "--pooling",
         CLI_CHOICE(&c->pooling),
         .metavar = "P",
         .choices = poolings,
         .help = "embed: %r (default: a sentence-transformers\nfolder's own Pooling, Dense and Normalize "
                 "modules; mean\nwithout modules.json). P replaces only the folder's Pooling"},
        {.names = "--normalize", CLI_FLAG(&o->normalize), .value = 1, .help = "embed: L2-normalise the vectors"},
        {.names = "--prompt",
         CLI_STRING(&o->prompt),
         .metavar = "NAME",
         .help = "embed: prepend the folder's named prompt (\"query\" ->\n\"query: \") to every text, as "
                 "sentence-transformers'\nprompt_name; default: its default_prompt_name"},
        {.names = "--softmax",
         CLI_FLAG(&o->softmax),
         .value = 1,
         .help = "rerank: softmax over the labels instead of the cross-encoder's\nactivation"},
        {.names = "--labels",
         CLI_STRING(&o->labels),
         .metavar = "A,B,...",
         .help = "zero-shot: the candidate labels, comma-separated"},
        {.names = "--multi-label",
         CLI_FLAG(&o->multi_label),
         .value = 1,
         .help = "zero-shot: score each label alone (entailment against\ncontradiction)"},
        {.names = "--template",
         CLI_STRING(&o->template_),
         .metavar = "T",
         .help = "zero-shot: the hypothesis, {} standing for the label\n(default \"This example is {}.\")"},
        {.names = "--line-numbers",
         CLI_FLAG(&o->line_numbers),
         .value = 1,
         .help = "start each TSV line with the input line number (JSONL always\nhas it)"},
        {.names = "    In TSV, a tab, carriage return or backslash inside a text is written \\t, \\r, \\\\.\n\n"
                  "RUNNING",
         .kind = CLI_OPT_TEXT},
        {.names = "--model",
         CLI_STRING(&o->model),
         .metavar = "DIR",
         .help = "a Hugging Face folder (config.json, model.safetensors,\ntokenizer.json or vocab.txt) of any "
                 "supported family, or a\nsentence-transformers folder. An F32 file's embedding "
                 "tables (and with --weights\nmapped its layer weights) are read in place: do not truncate\nor "
                 "rewrite the file while a run uses it (the run stops with\nexit 4 or reads the new bytes); write a "
                 "new file and rename it\nover the old one instead"},
        {.names = "--task",
         CLI_STRING(&o->task),
         .metavar = "T",
         .help = "classify, sentiment, ner, fill-mask, embed, rerank or\nzero-shot (see TASKS)"},
        {.names = "--batch-size",
         CLI_SIZE(&o->batch),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_BATCH,
         .help = "lines per forward pass, %r (default 32)"},
        CLI_OPT_THREADS(&o->threads),
        CLI_OPT_PRECISION(&c->precision),
        CLI_OPT_WEIGHTS(&c->weights),
        {.names = "--max-length",
         CLI_SIZE(&o->max_length),
         .metavar = "N",
         .min = 3,
         .max = CLI_MAX_LENGTH,
         .help = "tokens per input incl. [CLS]/[SEP], %r (default: the\nmodel's, 512; more than the model's "
                 "positions is an error)"},
        {.names = "--truncation",
         CLI_CHOICE(&c->truncation),
         .metavar = "S",
         .choices = truncations,
         .value = 1,
         .help = "%r (default longest_first)"},
        {.names = "--shard",
         .kind = CLI_OPT_CUSTOM,
         .dest = o,
         .metavar = "I/N",
         .parse = set_shard,
         .help = "process only data lines I, I+N, I+2N, ... (0 <= I < N), to\nsplit a big file across processes "
                 "or machines; implies\n--line-numbers so the parts can be merged with: sort -n -k1,1 -s"},
        {.names = "--quiet|-q", CLI_FLAG(&o->quiet), .value = 1, .help = "no progress bar, no warnings"},
        CLI_OPT_VERBOSE(&o->verbose),
        CLI_OPT_END,
    };
    const int r = cli_parse_file_args(prog, table, argc, argv, &o->input);
    if (r == CLI_ARGS_HELP)
        usage(stdout, table);
    if (!o->input)
        o->input = "-";
    if (c->input >= 0) /* an explicit --input wins over --pair's tsv */
        o->rd.format = (reader_format)c->input;
    o->aggregation = (bert_aggregation)c->aggregation;
    o->pooling = (bert_pooling)c->pooling;
    o->truncation = (bert_truncation)c->truncation;
    o->precision = (bert_precision)c->precision;
    o->weights = (bert_weights)c->weights;
    return r;
}

static void usage(FILE *out, const cli_opt *table)
{
    fputs("NAME\n"
          "    bert-classify - classify, tag, fill masks in, embed, rerank or zero-shot classify the lines\n"
          "    of a text file with a BERT-style model\n"
          "\n"
          "SYNOPSIS\n"
          "    bert-classify [OPTIONS] [FILE|-]\n"
          "\n"
          "DESCRIPTION\n"
          "    Reads one input per line from FILE (or standard input, '-' or no FILE), runs the model and\n"
          "    writes one result per line, in input order, streaming: memory does not grow with the file.\n"
          "    Without --model the embedded default model (mini-sst2, SST-2 sentiment) is used.\n"
          "\n"
          "TASKS (--task; default: the head the checkpoint was trained for)\n"
          "    classify    sequence classification. TSV output: LABEL<TAB>SCORE<TAB>TEXT (probability for\n"
          "                single-label models, sigmoid for multi-label, the value for regression)\n"
          "    sentiment   classify, with a model whose labels are negative/positive\n"
          "    ner         named entities as JSONL: {\"line\", \"entities\": [{\"entity_group\"|\"entity\",\n"
          "                \"score\", \"word\", \"start\", \"end\"}]}; start/end count characters, as Python does\n"
          "    fill-mask   top-k tokens and probabilities for each [MASK], as JSONL\n"
          "    embed       one vector per line (JSONL \"embedding\", or TSV floats); a sentence-transformers\n"
          "                folder's own pooling, Dense and Normalize, its prompts (--prompt) and its\n"
          "                max_seq_length; texts are stripped, as sentence-transformers does\n"
          "    rerank      a cross-encoder on query/passage pairs: TSV query<TAB>passage gives\n"
          "                SCORE<TAB>QUERY<TAB>PASSAGE per line; JSONL {\"query\", \"passages\": [...]} gives\n"
          "                {\"line\", \"query\", \"results\": [{\"index\", \"score\", \"passage\"}]} best first\n"
          "                (index: the passage's place in the list; --text-field names the query's\n"
          "                field; with --pair-field each JSONL line is one pair). Scores: sigmoid for one label,\n"
          "                the logits otherwise (or the activation config.json names; --softmax).\n"
          "                Both texts are stripped first, as sentence-transformers' CrossEncoder does\n"
          "    zero-shot   an NLI model against --labels, as Hugging Face's zero-shot pipeline:\n"
          "                JSONL {\"line\", \"sequence\", \"labels\", \"scores\"}, labels best first\n"
          "                (--multi-label, --template)\n"
          "    Inputs longer than --max-length (or a folder's max_seq_length) are truncated, and the\n"
          "    count is reported on stderr at the end (-q silences it).\n"
          "    In TSV output a backslash, tab, newline, carriage return or NUL inside a text or label is\n"
          "    written \\\\, \\t, \\n, \\r or \\0, so every result is one line of whole fields. A score that is\n"
          "    not a finite number is written null (TSV and JSONL alike).\n"
          "\n",
          out);
    cli_print_options(out, table);
    fputs("    A progress bar (lines, rate, ETA) is drawn on stderr when it is a terminal and the input\n"
          "    is over 1 MB.\n"
          "\n"
          "EXIT STATUS\n"
          "    0 success; 2 bad usage (unknown option or task); 3 bad input (missing or unreadable file,\n"
          "    a directory, an empty input, malformed UTF-8 or JSON, a missing column, an unknown gold\n"
          "    label, a line over the maximum: the file and line are named); 4 the model cannot be\n"
          "    loaded, does not fit the task, or its file changed under the run; 5 other failures (out\n"
          "    of memory, write errors)\n"
          "\n"
          "EXAMPLES\n"
          "    bert-classify examples/sample.txt\n"
          "    bert-classify --pair --format jsonl pairs.tsv\n"
          "    bert-classify --input tsv --header --text-col 1 --label-col 2 SST-2/dev.tsv\n"
          "    bert-classify --model conll-ner --task ner --aggregation first news.txt\n"
          "    bert-classify --model e5-folder --task embed --prompt query --format jsonl queries.txt\n"
          "    bert-classify --model reranker --task rerank --input jsonl groups.jsonl\n"
          "    bert-classify --model nli --task zero-shot --labels sports,politics,tech news.txt\n"
          "    parallel --pipe -k -N 1000 bert-classify -q < big.txt > out.tsv\n",
          out);
}

/* ---- progress bar ---- */
typedef struct progress {
    int on;
    double t0, last;
    long long total_bytes;
} progress;

static void progress_draw(progress *p, size_t lines, long long bytes, int final)
{
    if (!p->on)
        return;
    double t = cli_now();
    if (!final && t - p->last < 0.2)
        return;
    p->last = t;
    double el = t - p->t0, rate = el > 0 ? (double)lines / el : 0;
    fprintf(stderr, "\r%s: %zu lines, %.0f lines/s", prog, lines, rate);
    if (p->total_bytes > 0 && bytes > 0) {
        double frac = (double)bytes / (double)p->total_bytes;
        double eta = frac > 0 ? el / frac - el : 0;
        fprintf(stderr, ", %3.0f%%, ETA %d:%02d", frac * 100, (int)eta / 60, (int)eta % 60);
    }
    fputs(final ? "\n" : "   ", stderr);
    fflush(stderr);
}

/* ---- output helpers ---- */
typedef struct job {
    const opts *o;
    const char *in_name;
    bert_model *m;
    const bert_tokenizer *tok;
    bert_ctx *ctx;
    bert_head *head;
    bert_batch *batch;
    bert_result *res;
    bert_encode_params enc;
    /* the current batch */
    char **line;
    size_t *line_cap, *line_len, *lineno;
    reader_record *rec;
    bert_text *texts;
    int32_t *gold;
    size_t n;
    /* rerank: both texts stripped, as sentence-transformers' CrossEncoder does */
    int ce_texts;
    /* embed with a sentence-transformers folder: each text stripped and prompted, in its own buffer */
    int st_texts;
    const char *prompt;
    char **ptext;
    size_t *ptext_cap;
    /* zero-shot: the --labels list */
    char *labels_buf;
    const char **labels;
    size_t n_labels;
    /* totals */
    size_t done, correct, labelled, inputs, truncated;
} job;

/* The model's label id for a gold label written as a name or as an id. */
static int32_t gold_id(const bert_model *m, const char *s, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int32_t id = bert_model_label_id(m, buf);
    if (id >= 0)
        return id;
    size_t v;
    if (cli_parse_size(buf, &v) == 0 && v < bert_model_get_info(m).n_labels)
        return (int32_t)v;
    return -1;
}

static void print_classify(job *j, size_t i)
{
    const opts *o = j->o;
    const size_t nl = bert_result_n_scores(j->res);
    const float *s = bert_result_scores(j->res, i);
    const bert_text *t = &j->texts[i];
    if (o->jsonl_out) {
        printf("{\"line\":%zu,\"label\":", j->lineno[i]);
        const char *best = bert_model_label(j->m, (size_t)bert_result_label(j->res, i));
        cli_json_string(stdout, best, strlen(best));
        fputs(",\"score\":", stdout);
        cli_number(stdout, s[bert_result_label(j->res, i)], 6);
        fputs(",\"scores\":{", stdout);
        for (size_t k = 0; k < nl; k++) {
            const char *l = bert_model_label(j->m, k);
            if (k)
                putchar(',');
            cli_json_string(stdout, l, strlen(l));
            putchar(':');
            cli_number(stdout, s[k], 6);
        }
        fputs("},\"text\":", stdout);
        cli_json_string(stdout, t->a, t->a_len);
        if (t->b) {
            fputs(",\"text_pair\":", stdout);
            cli_json_string(stdout, t->b, t->b_len);
        }
        if (j->gold[i] >= 0) {
            const char *g = bert_model_label(j->m, (size_t)j->gold[i]);
            fputs(",\"gold\":", stdout);
            cli_json_string(stdout, g, strlen(g));
        }
        fputs("}\n", stdout);
        return;
    }
    if (o->line_numbers)
        printf("%zu\t", j->lineno[i]);
    /* the best top_k labels, best first */
    size_t order[1024], k = nl < 1024 ? nl : 1024;
    for (size_t a = 0; a < k; a++)
        order[a] = a;
    for (size_t a = 0; a < k; a++)
        for (size_t b2 = a + 1; b2 < k; b2++)
            if (s[order[b2]] > s[order[a]]) {
                size_t tmp = order[a];
                order[a] = order[b2];
                order[b2] = tmp;
            }
    if (bert_model_get_info(j->m).problem == BERT_PROBLEM_REGRESSION)
        order[0] = 0;
    size_t show = o->top_k < k ? o->top_k : k;
    for (size_t a = 0; a < show; a++) {
        const char *l = bert_model_label(j->m, order[a]);
        cli_tsv_text(stdout, l, strlen(l));
        putchar('\t');
        cli_number(stdout, s[order[a]], 6);
        putchar('\t');
    }
    cli_tsv_text(stdout, t->a, t->a_len);
    if (t->b) {
        putchar('\t');
        cli_tsv_text(stdout, t->b, t->b_len);
    }
    putchar('\n');
}

static void print_ner(job *j, size_t i)
{
    size_t n = 0;
    const bert_entity *e = bert_result_entities(j->res, i, &n);
    printf("{\"line\":%zu,\"entities\":[", j->lineno[i]);
    for (size_t k = 0; k < n; k++) {
        printf(k ? ",{\"%s\":" : "{\"%s\":", j->o->aggregation == BERT_AGG_NONE ? "entity" : "entity_group");
        cli_json_string(stdout, e[k].label, strlen(e[k].label));
        fputs(",\"score\":", stdout);
        cli_number(stdout, e[k].score, 6);
        if (e[k].index >= 0)
            printf(",\"index\":%d", (int)e[k].index);
        fputs(",\"word\":", stdout);
        cli_json_string(stdout, e[k].word, strlen(e[k].word));
        printf(",\"start\":%zu,\"end\":%zu}", e[k].chars.begin, e[k].chars.end);
    }
    fputs("]}\n", stdout);
}

static void print_fill(job *j, size_t i)
{
    size_t n = 0;
    const bert_fill *f = bert_result_fills(j->res, i, &n);
    printf("{\"line\":%zu,\"masks\":[", j->lineno[i]);
    for (size_t k = 0; k < n; k++) {
        int first = k == 0 || f[k].position != f[k - 1].position;
        if (first)
            printf("%s{\"position\":%zu,\"predictions\":[", k ? "]}," : "", f[k].position);
        printf("%s{\"token\":", first ? "" : ",");
        cli_json_string(stdout, f[k].token, strlen(f[k].token));
        printf(",\"token_id\":%d,\"score\":", (int)f[k].token_id);
        cli_number(stdout, f[k].score, 6);
        putchar('}');
    }
    fputs(n ? "]}]}\n" : "]}\n", stdout);
}

static void print_embed(job *j, size_t i)
{
    const size_t d = bert_result_dim(j->res);
    const float *v = bert_result_vector(j->res, i);
    if (j->o->jsonl_out)
        printf("{\"line\":%zu,\"embedding\":[", j->lineno[i]);
    else if (j->o->line_numbers)
        printf("%zu\t", j->lineno[i]);
    for (size_t k = 0; k < d; k++) {
        if (k)
            putchar(j->o->jsonl_out ? ',' : '\t');
        cli_number(stdout, v[k], 7);
    }
    fputs(j->o->jsonl_out ? "]}\n" : "\n", stdout);
}

/* rerank, TSV: the pair's scores (one for a one-label cross-encoder), then the pair */
static void print_pair_scores(job *j, size_t i)
{
    const size_t nl = bert_result_n_scores(j->res);
    const float *sc = bert_result_scores(j->res, i);
    const reader_record *t = &j->rec[i]; /* the texts as read: the model saw them stripped */
    if (j->o->jsonl_out) {
        printf("{\"line\":%zu,\"scores\":[", j->lineno[i]);
        for (size_t k = 0; k < nl; k++) {
            if (k)
                putchar(',');
            cli_number(stdout, sc[k], 7);
        }
        fputs("],\"query\":", stdout);
        cli_json_string(stdout, t->a, t->a_len);
        fputs(",\"passage\":", stdout);
        cli_json_string(stdout, t->b ? t->b : "", t->b_len);
        fputs("}\n", stdout);
        return;
    }
    if (j->o->line_numbers)
        printf("%zu\t", j->lineno[i]);
    for (size_t k = 0; k < nl; k++) {
        cli_number(stdout, sc[k], 7);
        putchar('\t');
    }
    cli_tsv_text(stdout, t->a, t->a_len);
    putchar('\t');
    cli_tsv_text(stdout, t->b ? t->b : "", t->b_len);
    putchar('\n');
}

/* zero-shot: the labels best first with their scores, as the pipeline returns them */
static void print_zero_shot(job *j, size_t i)
{
    const float *sc = bert_result_scores(j->res, i);
    size_t order[256];
    bert_rank(sc, j->n_labels, order);
    const bert_text *t = &j->texts[i];
    if (!j->o->jsonl_out) {
        if (j->o->line_numbers)
            printf("%zu\t", j->lineno[i]);
        for (size_t k = 0; k < j->n_labels; k++) {
            cli_tsv_text(stdout, j->labels[order[k]], strlen(j->labels[order[k]]));
            putchar('\t');
            cli_number(stdout, sc[order[k]], 6);
            putchar('\t');
        }
        cli_tsv_text(stdout, t->a, t->a_len);
        putchar('\n');
        return;
    }
    printf("{\"line\":%zu,\"sequence\":", j->lineno[i]);
    cli_json_string(stdout, t->a, t->a_len);
    fputs(",\"labels\":[", stdout);
    for (size_t k = 0; k < j->n_labels; k++) {
        if (k)
            putchar(',');
        cli_json_string(stdout, j->labels[order[k]], strlen(j->labels[order[k]]));
    }
    fputs("],\"scores\":[", stdout);
    for (size_t k = 0; k < j->n_labels; k++) {
        if (k)
            putchar(',');
        cli_number(stdout, sc[order[k]], 6);
    }
    fputs("]}\n", stdout);
}

/* Counts the batch's inputs and those truncation cut (overflowing windows are never asked for). */
static void count_truncated(job *j)
{
    const bert_batch_view v = bert_batch_get(j->batch);
    for (size_t r = 0; r < v.n_rows; r++)
        j->truncated += v.truncated[r] != 0;
    j->inputs += v.n_rows;
}

static int encode_error(job *j, size_t first_line)
{
    const char *m = bert_batch_errmsg(j->batch);
    size_t k = 0;
    if (sscanf(m, "input %zu", &k) == 1 && k < j->n)
        fprintf(stderr, "%s: %s:%zu: %s\n", prog, j->in_name, j->lineno[k], m);
    else
        fprintf(stderr, "%s: %s:%zu: %s\n", prog, j->in_name, first_line, m);
    return CLI_ERR_INPUT;
}

/* sentence-transformers' text: stripped (cli_strip: Python's str.strip), then the prompt in front,
 * in the slot's own buffer. */
static int st_text(job *j, size_t slot)
{
    const char *a = j->texts[slot].a;
    size_t end = j->texts[slot].a_len;
    cli_strip(&a, &end);
    const size_t pl = j->prompt ? strlen(j->prompt) : 0;
    if (pl + end + 1 > j->ptext_cap[slot]) {
        char *p = realloc(j->ptext[slot], pl + end + 1);
        if (!p) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return CLI_ERR_RUNTIME;
        }
        j->ptext[slot] = p;
        j->ptext_cap[slot] = pl + end + 1;
    }
    memcpy(j->ptext[slot], j->prompt ? j->prompt : "", pl);
    memcpy(j->ptext[slot] + pl, a, end);
    j->ptext[slot][pl + end] = '\0';
    j->texts[slot].a = j->ptext[slot];
    j->texts[slot].a_len = pl + end;
    return CLI_OK;
}

/* One JSONL reranking group: the query against each passage, in chunks of --batch-size, then the
 * passages by descending score with their places in the list. */
static int run_group(job *j, size_t lineno, const reader_group *g)
{
    float *scores = malloc(g->n * sizeof *scores);
    size_t *order = malloc(g->n * sizeof *order);
    int rc = CLI_OK;
    if (!scores || !order) {
        fprintf(stderr, "%s: %s:%zu: out of memory for %zu passages\n", prog, j->in_name, lineno, g->n);
        rc = CLI_ERR_RUNTIME;
        goto done;
    }
    for (size_t at = 0; at < g->n && rc == CLI_OK; at += j->o->batch) {
        const size_t k = g->n - at < j->o->batch ? g->n - at : j->o->batch;
        for (size_t i = 0; i < k; i++) {
            bert_text *t = &j->texts[i];
            *t = (bert_text){g->query, g->query_len, g->passages[at + i], g->passage_lens[at + i]};
            cli_strip(&t->a, &t->a_len); /* as CrossEncoder.predict */
            cli_strip(&t->b, &t->b_len);
            j->lineno[i] = lineno;
        }
        j->n = k;
        if (bert_batch_encode(j->batch, j->tok, j->texts, k, &j->enc) != BERT_OK) {
            rc = encode_error(j, lineno);
            break;
        }
        count_truncated(j);
        if (bert_head_run(j->head, j->ctx, j->batch, j->texts, j->res) != BERT_OK) {
            fprintf(stderr, "%s: %s:%zu: %s\n", prog, j->in_name, lineno, bert_result_errmsg(j->res));
            rc = CLI_ERR_RUNTIME;
            break;
        }
        if (bert_result_n_scores(j->res) != 1) {
            fprintf(stderr,
                    "%s: %s:%zu: ranking needs one score per pair; this cross-encoder has %zu labels (use "
                    "TSV input for every label's score)\n",
                    prog, j->in_name, lineno, bert_result_n_scores(j->res));
            rc = CLI_ERR_MODEL;
            break;
        }
        for (size_t i = 0; i < k; i++)
            scores[at + i] = bert_result_scores(j->res, i)[0];
    }
    j->n = 0;
    if (rc != CLI_OK)
        goto done;
    bert_rank(scores, g->n, order);
    printf("{\"line\":%zu,\"query\":", lineno);
    cli_json_string(stdout, g->query, g->query_len);
    fputs(",\"results\":[", stdout);
    for (size_t i = 0; i < g->n; i++) {
        printf("%s{\"index\":%zu,\"score\":", i ? "," : "", order[i]);
        cli_number(stdout, scores[order[i]], 7);
        fputs(",\"passage\":", stdout);
        cli_json_string(stdout, g->passages[order[i]], g->passage_lens[order[i]]);
        putchar('}');
    }
    fputs("]}\n", stdout);
    j->done++;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
        rc = CLI_ERR_RUNTIME;
    }
done:
    free(scores);
    free(order);
    return rc;
}

static int run_batch(job *j)
{
    if (j->n == 0)
        return CLI_OK;
    if (bert_batch_encode(j->batch, j->tok, j->texts, j->n, &j->enc) != BERT_OK)
        return encode_error(j, j->lineno[0]);
    count_truncated(j);
    if (bert_head_run(j->head, j->ctx, j->batch, j->texts, j->res) != BERT_OK) {
        fprintf(stderr, "%s: %s: lines %zu-%zu: %s\n", prog, j->in_name, j->lineno[0], j->lineno[j->n - 1],
                bert_result_errmsg(j->res));
        return CLI_ERR_RUNTIME;
    }
    const bert_task task = bert_head_task(j->head);
    for (size_t i = 0; i < j->n; i++) {
        if (task == BERT_TASK_CLASSIFY) {
            print_classify(j, i);
            if (j->gold[i] >= 0) {
                j->labelled++;
                j->correct += bert_result_label(j->res, i) == j->gold[i];
            }
        } else if (task == BERT_TASK_NER) {
            print_ner(j, i);
        } else if (task == BERT_TASK_FILL_MASK) {
            print_fill(j, i);
        } else if (task == BERT_TASK_RERANK) {
            print_pair_scores(j, i);
        } else if (task == BERT_TASK_ZERO_SHOT) {
            print_zero_shot(j, i);
        } else {
            print_embed(j, i);
        }
    }
    j->done += j->n;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
        return CLI_ERR_RUNTIME;
    }
    for (size_t i = 0; i < j->n; i++)
        reader_record_free(&j->rec[i]);
    j->n = 0;
    return CLI_OK;
}

static int setup(job *j, const opts *o)
{
    char err[1024];
    bert_model_params mp = bert_model_default_params();
    mp.precision = o->precision;
    mp.weights = o->weights;
    const char *dir = o->model ? o->model : cli_default_model();
    if (bert_model_load(dir, &mp, &j->m, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    j->tok = bert_model_tokenizer(j->m);
    if (!j->tok) {
        fprintf(stderr, "%s: %s: no vocab.txt: the model folder needs its tokenizer files\n", prog, dir);
        return CLI_ERR_MODEL;
    }
    if (cli_check_specials(prog, j->tok, dir) != CLI_OK)
        return CLI_ERR_MODEL;
    bert_head_params hp = bert_head_default_params();
    hp.name = o->task;
    hp.aggregation = o->aggregation;
    hp.pooling = o->pooling;
    hp.normalize = o->normalize;
    hp.top_k = o->top_k_set ? o->top_k : 5;
    hp.softmax = o->softmax;
    hp.multi_label = o->multi_label;
    hp.hypothesis_template = o->template_;
    if (o->labels) {
        /* as the pipeline splits a label string: on commas, each stripped, empty ones dropped */
        j->labels_buf = strdup(o->labels);
        j->labels = calloc(strlen(o->labels) / 2 + 1, sizeof *j->labels);
        if (!j->labels_buf || !j->labels) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return CLI_ERR_RUNTIME;
        }
        for (char *save = NULL, *t = strtok_r(j->labels_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ' || *t == '\t')
                t++;
            size_t l = strlen(t);
            while (l && (t[l - 1] == ' ' || t[l - 1] == '\t'))
                t[--l] = '\0';
            if (l)
                j->labels[j->n_labels++] = t;
        }
        if (j->n_labels == 0 || j->n_labels > 256) {
            fprintf(stderr, "%s: --labels '%s' gives %s (1 to 256 comma-separated labels)\n", prog, o->labels,
                    j->n_labels ? "too many labels" : "no label");
            return CLI_ERR_USAGE;
        }
        hp.labels = j->labels;
        hp.n_labels = j->n_labels;
    }
    if (bert_head_new(j->m, &hp, &j->head, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = (int)o->threads;
    if (bert_ctx_new(j->m, &cp, &j->ctx, err, sizeof err) != BERT_OK ||
        bert_batch_new(&j->batch, err, sizeof err) != BERT_OK || bert_result_new(&j->res, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_RUNTIME;
    }
    const bert_model_info info = bert_model_get_info(j->m);
    const bert_st_info si = bert_model_st_info(j->m);
    size_t limit = bert_tokenizer_get_config(j->tok).model_max_length;
    if (limit > info.max_positions)
        limit = info.max_positions;
    j->ce_texts = bert_head_task(j->head) == BERT_TASK_RERANK;
    if (bert_head_task(j->head) == BERT_TASK_EMBED && si.present) {
        /* sentence-transformers' Transformer module: its max_seq_length, texts stripped, prompts */
        if (si.max_seq_length && si.max_seq_length < limit)
            limit = si.max_seq_length;
        j->st_texts = 1;
        const char *name = o->prompt ? o->prompt : si.default_prompt_name;
        if (name && !(j->prompt = bert_model_prompt(j->m, name))) {
            fprintf(stderr, "%s: %s: no prompt named '%s' (", prog, dir, name);
            for (size_t i = 0; i < si.n_prompts; i++)
                fprintf(stderr, "%s%s", i ? ", " : "", bert_model_prompt_name(j->m, i));
            fprintf(stderr, "%s)\n", si.n_prompts ? "" : "the folder defines none");
            return CLI_ERR_USAGE;
        }
    } else if (o->prompt) {
        fprintf(stderr, "%s: --prompt needs --task embed and a sentence-transformers folder with prompts\n", prog);
        return CLI_ERR_USAGE;
    }
    j->enc = bert_encode_default_params();
    j->enc.truncation = o->truncation;
    j->enc.max_length = o->max_length ? o->max_length : limit;
    if (j->enc.max_length > info.max_positions) {
        fprintf(stderr, "%s: --max-length %zu is over the model's max_position_embeddings %zu\n", prog,
                j->enc.max_length, info.max_positions);
        return CLI_ERR_USAGE;
    }
    j->enc.on_invalid_utf8 = o->on_invalid == 1 ? BERT_INVALID_UTF8_REPLACE : BERT_INVALID_UTF8_ERROR;
    const size_t B = o->batch;
    j->line = calloc(B, sizeof *j->line);
    j->line_cap = calloc(B, sizeof *j->line_cap);
    j->line_len = calloc(B, sizeof *j->line_len);
    j->lineno = calloc(B, sizeof *j->lineno);
    j->rec = calloc(B, sizeof *j->rec);
    j->texts = calloc(B, sizeof *j->texts);
    j->gold = calloc(B, sizeof *j->gold);
    j->ptext = calloc(B, sizeof *j->ptext);
    j->ptext_cap = calloc(B, sizeof *j->ptext_cap);
    if (!j->line || !j->line_cap || !j->line_len || !j->lineno || !j->rec || !j->texts || !j->gold || !j->ptext ||
        !j->ptext_cap) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return CLI_ERR_RUNTIME;
    }
    return CLI_OK;
}

static void teardown(job *j)
{
    for (size_t i = 0; j->line && i < j->o->batch; i++) {
        free(j->line[i]);
        if (j->rec)
            reader_record_free(&j->rec[i]);
        if (j->ptext)
            free(j->ptext[i]);
    }
    free(j->ptext);
    free(j->ptext_cap);
    free(j->labels);
    free(j->labels_buf);
    free(j->line);
    free(j->line_cap);
    free(j->line_len);
    free(j->lineno);
    free(j->rec);
    free(j->texts);
    free(j->gold);
    bert_result_free(j->res);
    bert_batch_free(j->batch);
    bert_head_free(j->head);
    bert_ctx_free(j->ctx);
    bert_model_free(j->m);
}

int main(int argc, char **argv)
{
    opts o;
    const int pr = parse(argc, argv, &o);
    if (pr != CLI_ARGS_OK)
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    if (o.task) {
        const char *const *names = bert_head_names();
        int known = 0;
        for (size_t i = 0; names[i]; i++)
            known |= !strcmp(names[i], o.task);
        if (!known) {
            fprintf(stderr, "%s: unknown task '%s' (classify, sentiment, ner, fill-mask, embed, rerank, zero-shot)\n",
                    prog, o.task);
            return CLI_ERR_USAGE;
        }
    }
    if (o.task && !strcmp(o.task, "zero-shot") && !o.labels) {
        fprintf(stderr, "%s: --task zero-shot needs --labels A,B,... (the candidate labels)\n", prog);
        return CLI_ERR_USAGE;
    }
    if (o.verbose)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_DEBUG);
    else if (!o.quiet)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_WARN);

    const int is_stdin = !strcmp(o.input, "-");
    const char *in_name = is_stdin ? "<stdin>" : o.input;
    FILE *in = is_stdin ? stdin : fopen(o.input, "rb");
    if (!in) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, o.input, strerror(errno));
        return CLI_ERR_INPUT;
    }
    struct stat sb;
    long long total = -1;
    if (fstat(fileno(in), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "%s: %s: is a directory, not a text file\n", prog, o.input);
            fclose(in);
            return CLI_ERR_INPUT;
        }
        if (S_ISREG(sb.st_mode))
            total = (long long)sb.st_size;
    }

    job j;
    memset(&j, 0, sizeof j);
    j.o = &o;
    j.in_name = in_name;
    cli_catch_sigbus(prog);
    int rc = setup(&j, &o);
    const bert_task task = j.head ? bert_head_task(j.head) : BERT_TASK_CLASSIFY;
    /* JSONL with a --pair-field holds one pair per line; without, one {"query", "passages"} group */
    const int groups = task == BERT_TASK_RERANK && o.rd.format == READER_JSONL && !o.rd.pair_field;
    if (rc == CLI_OK && !o.format_set)
        o.jsonl_out = task == BERT_TASK_NER || task == BERT_TASK_FILL_MASK || task == BERT_TASK_ZERO_SHOT || groups;
    if (rc == CLI_OK && groups && !o.jsonl_out) {
        fprintf(stderr, "%s: reranking JSONL groups writes JSONL (--format tsv: give TSV query<TAB>passage pairs)\n",
                prog);
        rc = CLI_ERR_USAGE;
    }
    if (rc == CLI_OK && task == BERT_TASK_RERANK && o.rd.format == READER_TEXT) {
        fprintf(stderr,
                "%s: rerank needs pairs: TSV query<TAB>passage (--pair) or JSONL {\"query\", \"passages\"} "
                "(--input jsonl)\n",
                prog);
        rc = CLI_ERR_USAGE;
    }
    if (rc == CLI_OK && (o.labels || o.multi_label || o.template_) && task != BERT_TASK_ZERO_SHOT) {
        fprintf(stderr, "%s: --labels, --multi-label and --template are for --task zero-shot\n", prog);
        rc = CLI_ERR_USAGE;
    }
    if (rc == CLI_OK && !o.jsonl_out && (task == BERT_TASK_NER || task == BERT_TASK_FILL_MASK)) {
        fprintf(stderr, "%s: --format tsv is not available for task %s (use jsonl)\n", prog, bert_head_name(j.head));
        rc = CLI_ERR_USAGE;
    }
    if (rc == CLI_OK && (o.rd.label_col || o.rd.label_field) && task != BERT_TASK_CLASSIFY) {
        fprintf(stderr, "%s: gold labels can only be scored for classification\n", prog);
        rc = CLI_ERR_USAGE;
    }
    progress pb = {!o.quiet && isatty(STDERR_FILENO) && total > (1 << 20), cli_now(), 0, total};
    size_t lineno = 0, data_idx = 0;
    long long bytes = 0;
    while (rc == CLI_OK) {
        /* read into the next slot of the batch */
        size_t slot = j.n;
        size_t len = 0;
        int r = cli_read_line(in, &j.line[slot], &j.line_cap[slot], &len);
        if (r < 0) {
            rc = cli_line_error(prog, in_name, lineno + 1, r);
            break;
        }
        if (r == 0) {
            /* an empty file is most often an upstream step that failed: say so rather than
             * succeed with no output (a shard or --on-invalid skip that keeps no line is fine) */
            if (lineno == 0 || (o.header && lineno == 1)) {
                fprintf(stderr, "%s: %s: %s\n", prog, in_name,
                        lineno ? "no data lines after the header" : "empty input: no lines to classify");
                rc = CLI_ERR_INPUT;
                break;
            }
            rc = run_batch(&j);
            break;
        }
        lineno++;
        bytes += (long long)len + 1;
        if (o.header && lineno == 1)
            continue;
        const size_t idx = data_idx++;
        if (o.shard_n && idx % o.shard_n != o.shard_i)
            continue;
        /* replace: repair the line itself, so that every task (NER's offsets, JSONL's parser) and
         * the output see the same valid text */
        if (o.on_invalid == 1 && cli_utf8_repair(&j.line[slot], &j.line_cap[slot], &len) < 0) {
            fprintf(stderr, "%s: %s:%zu: out of memory repairing the line\n", prog, in_name, lineno);
            rc = CLI_ERR_RUNTIME;
            break;
        }
        char *line = j.line[slot];
        size_t bad = 0;
        if (o.rd.format == READER_JSONL && o.on_invalid != 0 && reader_lone_surrogates(line, len, o.on_invalid == 1) &&
            o.on_invalid == 2) {
            if (!o.quiet)
                fprintf(stderr, "%s: %s:%zu: warning: a lone UTF-16 surrogate escape, line skipped\n", prog, in_name,
                        lineno);
            continue;
        }
        if (o.on_invalid != 1 && bert_utf8_check(line, len, &bad) != BERT_OK) {
            if (o.on_invalid == 2) {
                if (!o.quiet)
                    fprintf(stderr, "%s: %s:%zu: warning: malformed UTF-8 at byte %zu, line skipped\n", prog, in_name,
                            lineno, bad);
                continue;
            }
            fprintf(stderr, "%s: %s:%zu: malformed UTF-8 at byte %zu of the line\n", prog, in_name, lineno, bad);
            rc = CLI_ERR_INPUT;
            break;
        }
        char err[512];
        if (groups) {
            reader_group g;
            if (reader_parse_group(line, len, o.rd.text_field ? o.rd.text_field : "query", "passages", &g, err,
                                   sizeof err) != 0) {
                fprintf(stderr, "%s: %s:%zu: %s\n", prog, in_name, lineno, err);
                rc = CLI_ERR_INPUT;
                break;
            }
            rc = run_group(&j, lineno, &g);
            reader_group_free(&g);
            progress_draw(&pb, j.done, bytes, 0);
            continue;
        }
        reader_record *rec = &j.rec[slot];
        if (reader_parse(&o.rd, line, len, rec, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s:%zu: %s\n", prog, in_name, lineno, err);
            rc = CLI_ERR_INPUT;
            break;
        }
        j.texts[slot] = (bert_text){rec->a, rec->a_len, rec->b, rec->b_len};
        if (j.ce_texts) {
            cli_strip(&j.texts[slot].a, &j.texts[slot].a_len);
            if (j.texts[slot].b)
                cli_strip(&j.texts[slot].b, &j.texts[slot].b_len);
        }
        if (j.st_texts && st_text(&j, slot) != CLI_OK) {
            rc = CLI_ERR_RUNTIME;
            break;
        }
        j.gold[slot] = -1;
        if (rec->label) {
            j.gold[slot] = gold_id(j.m, rec->label, rec->label_len);
            if (j.gold[slot] < 0) {
                fprintf(stderr, "%s: %s:%zu: unknown label '%.*s' (the model's labels:", prog, in_name, lineno,
                        (int)(rec->label_len > 64 ? 64 : rec->label_len), rec->label);
                for (size_t k = 0; k < bert_model_get_info(j.m).n_labels; k++)
                    fprintf(stderr, "%s %s", k ? "," : "", bert_model_label(j.m, k));
                fprintf(stderr, ", or their ids)\n");
                rc = CLI_ERR_INPUT;
                break;
            }
        }
        j.lineno[slot] = lineno;
        j.n++;
        if (j.n == o.batch) {
            rc = run_batch(&j);
            progress_draw(&pb, j.done, bytes, 0);
        }
    }
    progress_draw(&pb, j.done, bytes, 1);
    if (rc == CLI_OK && j.truncated && !o.quiet)
        fprintf(stderr, "%s: %zu of %zu inputs were longer than %zu tokens and were truncated (%s)\n", prog,
                j.truncated, j.inputs, j.enc.max_length,
                o.max_length ? "--max-length"
                : j.st_texts ? "the folder's max_seq_length"
                             : "the model's maximum");
    /* printed even with --quiet: the caller asked for it by giving gold labels */
    if (rc == CLI_OK && j.labelled)
        fprintf(stderr, "%s: accuracy %.10f (%zu of %zu labelled lines correct)\n", prog,
                (double)j.correct / (double)j.labelled, j.correct, j.labelled);
    teardown(&j);
    if (in != stdin)
        fclose(in);
    return rc;
}
