/* bert-tokenize: tokenizes a text file (WordPiece from vocab.txt, or any supported tokenizer.json),
 * one JSON object per line of input; or, with --decode, turns id lists back into text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/bert.h>

#include "cli.h"
#include "opts.h"

static const char *prog = "bert-tokenize";

typedef struct opts {
    const char *model, *vocab, *json, *input;
    int lower, strip, no_cjk, pair, overflow, char_offsets, quiet, verbose, decode, skip_special;
    bert_encode_params enc;
    int on_invalid; /* 0 error, 1 replace, 2 skip */
    size_t batch;
} opts;

static const char *const truncations[] = {"longest_first", "only_first", "only_second", NULL};
static const char *const invalid_policies[] = {"error", "replace", "skip", NULL};

static void usage(FILE *out, const cli_opt *table);

/* Parses argv into o with the options' table (opts.h), which also writes --help's option lines.
 * Returns CLI_ARGS_OK, CLI_ARGS_HELP (help printed) or CLI_ARGS_ERROR (message printed). */
static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->lower = o->strip = -1;
    o->enc = bert_encode_default_params();
    o->batch = 256;
    int trunc = BERT_TRUNCATION_LONGEST_FIRST, trunc_given = 0;
    const cli_opt table[] = {
        {.names = "--model",
         CLI_STRING(&o->model),
         .metavar = "DIR",
         .help = "Hugging Face folder: its tokenizer.json, or vocab.txt + tokenizer_config.json\n(default: the "
                 "embedded default "
                 "model, models/mini-sst2)"},
        {.names = "--vocab",
         CLI_STRING(&o->vocab),
         .metavar = "FILE",
         .help = "a vocab.txt alone, with BERT's default settings"},
        {.names = "--tokenizer",
         CLI_STRING(&o->json),
         .metavar = "FILE",
         .help = "a Hugging Face tokenizer.json alone (BPE, Unigram, ...)"},
        {.names = "--decode",
         CLI_FLAG(&o->decode),
         .value = 1,
         .help = "lines are token ids ([1, 2, 3] or 1 2 3): print the text\nthe tokenizer's decoder makes of them"},
        {.names = "--skip-special",
         CLI_FLAG(&o->skip_special),
         .value = 1,
         .help = "with --decode, leave special tokens out"},
        {.names = "--lower", CLI_FLAG(&o->lower), .value = 1, .help = "force lower-casing on"},
        {.names = "--no-lower", CLI_FLAG(&o->lower), .value = 0, .help = "force it off"},
        {.names = "--strip-accents", CLI_FLAG(&o->strip), .value = 1, .help = "force accent stripping on"},
        {.names = "--no-strip-accents", CLI_FLAG(&o->strip), .value = 0, .help = "force it off"},
        {.names = "--no-chinese-chars", CLI_FLAG(&o->no_cjk), .value = 1, .help = "do not isolate CJK ideographs"},
        {.names = "--pair", CLI_FLAG(&o->pair), .value = 1, .help = "lines are TAB-separated pairs: text_a<TAB>text_b"},
        {.names = "--max-length",
         CLI_SIZE(&o->enc.max_length),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_LENGTH,
         .help = "truncate to N tokens including [CLS]/[SEP], %r"},
        {.names = "--truncation",
         CLI_CHOICE(&trunc),
         .metavar = "S",
         .choices = truncations,
         .value = 1,
         .seen = &trunc_given,
         .help = "%r (default longest_first;\nneeds --max-length)"},
        {.names = "--stride",
         CLI_SIZE(&o->enc.stride),
         .metavar = "N",
         .min = 0,
         .max = CLI_MAX_LENGTH,
         .help = "overlap of overflowing windows, %r (with --overflow)"},
        {.names = "--overflow", CLI_FLAG(&o->overflow), .value = 1, .help = "also print the overflowing windows"},
        {.names = "--char-offsets",
         CLI_FLAG(&o->char_offsets),
         .value = 1,
         .help = "add \"char_offsets\" (Unicode code points, as Python counts)"},
        {.names = "--on-invalid",
         CLI_CHOICE(&o->on_invalid),
         .metavar = "M",
         .choices = invalid_policies,
         .help = "malformed UTF-8: %r. error (default) stops, naming\nthe line and byte; replace: bad bytes "
                 "become U+FFFD, which\nis dropped; skip: the line is left out, with a warning"},
        {.names = "--batch-size",
         CLI_SIZE(&o->batch),
         .metavar = "N",
         .min = 1,
         .max = CLI_MAX_BATCH,
         .help = "lines encoded per call, %r (default 256)"},
        {.names = "--quiet|-q", CLI_FLAG(&o->quiet), .value = 1, .help = "no warnings"},
        CLI_OPT_VERBOSE(&o->verbose),
        CLI_OPT_END,
    };
    const int r = cli_parse_file_args(prog, table, argc, argv, &o->input);
    if (r == CLI_ARGS_HELP)
        usage(stdout, table);
    if (r != CLI_ARGS_OK)
        return r;
    if (trunc_given)
        o->enc.truncation = (bert_truncation)trunc;
    if (!!o->model + !!o->vocab + !!o->json > 1) {
        fprintf(stderr, "%s: give one of --model, --vocab and --tokenizer\n", prog);
        return CLI_ARGS_ERROR;
    }
    if (o->json && (o->lower >= 0 || o->strip >= 0 || o->no_cjk)) {
        fprintf(stderr,
                "%s: --lower, --strip-accents and --no-chinese-chars are for WordPiece vocabularies; a "
                "tokenizer.json says its own normalization\n",
                prog);
        return CLI_ARGS_ERROR;
    }
    if (o->skip_special && !o->decode) {
        fprintf(stderr, "%s: --skip-special goes with --decode\n", prog);
        return CLI_ARGS_ERROR;
    }
    if (o->enc.max_length && !trunc_given)
        o->enc.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    if (trunc_given && !o->enc.max_length) {
        fprintf(stderr, "%s: --truncation needs --max-length\n", prog);
        return CLI_ARGS_ERROR;
    }
    if ((o->overflow || o->enc.stride) && !o->enc.max_length) {
        fprintf(stderr, "%s: --overflow and --stride need --max-length\n", prog);
        return CLI_ARGS_ERROR;
    }
    o->enc.return_overflowing = o->overflow;
    o->enc.on_invalid_utf8 = o->on_invalid == 1 ? BERT_INVALID_UTF8_REPLACE : BERT_INVALID_UTF8_ERROR;
    if (!o->input)
        o->input = "-";
    return 0;
}

static void usage(FILE *out, const cli_opt *table)
{
    fputs("NAME\n"
          "    bert-tokenize - tokenization identical to Hugging Face's (WordPiece, tokenizer.json)\n"
          "\n"
          "SYNOPSIS\n"
          "    bert-tokenize [OPTIONS] [FILE|-]\n"
          "\n"
          "DESCRIPTION\n"
          "    Reads one text per line from FILE (or standard input) and writes one JSON object per\n"
          "    line: {\"line\", \"ids\", \"type_ids\", \"tokens\", \"offsets\"}, offsets being UTF-8 byte\n"
          "    ranges into the text each token came from ([0,0] for [CLS]/[SEP]). With --overflow\n"
          "    every overflowing window is one more object with a \"window\" number. Tokens are HF's token\n"
          "    strings. With --decode each line is a list of ids and the output {\"line\", \"text\"}.\n"
          "\n"
          "OPTIONS\n",
          out);
    cli_print_options(out, table);
    fputs("\n"
          "EXIT STATUS\n"
          "    0 success, 2 bad usage, 3 bad input (an empty input, or the file, line and byte named;\n"
          "    a line over 256 MiB, or BERT_MAX_LINE_BYTES from the environment), 4 tokenizer could\n"
          "    not be loaded, 5 other failure (out of memory, write error)\n",
          out);
}

/* Buffered input lines of one batch. */
typedef struct lines {
    char **text;
    size_t *len, *cap, *lineno;
    size_t n, max;
} lines;

static void print_ints(FILE *out, const char *key, const int32_t *v, size_t n)
{
    fprintf(out, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        fprintf(out, i ? ",%d" : "%d", (int)v[i]);
    fputc(']', out);
}

static void print_spans(FILE *out, const char *key, const bert_span *v, size_t n)
{
    fprintf(out, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        fprintf(out, i ? ",[%zu,%zu]" : "[%zu,%zu]", v[i].begin, v[i].end);
    fputc(']', out);
}

static int emit(const opts *o, const bert_tokenizer *tok, const bert_batch *b, const bert_text *texts, const lines *ls)
{
    (void)tok; /* token strings come from the batch (HF's, [UNK] pieces and added tokens included) */
    bert_batch_view v = bert_batch_get(b);
    size_t prev = (size_t)-1, window = 0;
    bert_span *cps = NULL;
    for (size_t r = 0; r < v.n_rows; r++) {
        const size_t s = v.sample_index[r], n = v.lengths[r], base = r * v.seq_len;
        window = s == prev ? window + 1 : 0;
        prev = s;
        printf("{\"line\":%zu,", ls->lineno[s]);
        if (o->overflow)
            printf("\"window\":%zu,", window);
        print_ints(stdout, "ids", v.ids + base, n);
        putchar(',');
        print_ints(stdout, "type_ids", v.type_ids + base, n);
        fputs(",\"tokens\":[", stdout);
        for (size_t i = 0; i < n; i++) {
            size_t tl = 0;
            const char *t = bert_batch_token(b, r, i, &tl);
            if (i)
                putchar(',');
            cli_json_string(stdout, t ? t : "", tl);
        }
        fputs("],", stdout);
        print_spans(stdout, "offsets", v.offsets + base, n);
        if (o->char_offsets) {
            bert_span *tmp = realloc(cps, (n ? n : 1) * sizeof *cps);
            if (!tmp) {
                free(cps);
                return CLI_ERR_RUNTIME;
            }
            cps = tmp;
            for (size_t i = 0; i < n; i++) {
                const int32_t seq = v.sequence_ids[base + i];
                const char *txt = seq == 1 ? texts[s].b : texts[s].a;
                size_t tl = seq == 1 ? texts[s].b_len : texts[s].a_len;
                if (seq < 0 || bert_spans_to_codepoints(txt, tl, v.offsets + base + i, 1, cps + i) != BERT_OK)
                    cps[i] = v.offsets[base + i]; /* specials stay [0,0]; replaced bytes keep bytes */
            }
            putchar(',');
            print_spans(stdout, "char_offsets", cps, n);
        }
        fputs("}\n", stdout);
    }
    const int e = errno;
    free(cps);
    if (ferror(stdout)) {
        fprintf(stderr, "%s: standard output: write error: %s\n", prog, strerror(e ? e : EIO));
        return CLI_ERR_RUNTIME;
    }
    return CLI_OK;
}

/* --decode: each line a list of ids ("[1, 2, 3]", "1 2 3" or "1,2,3") -> {"line", "text"}. */
static int decode_lines(const opts *o, const bert_tokenizer *tok, FILE *in, const char *in_name)
{
    char *line = NULL, *text = NULL;
    size_t cap = 0, len = 0, lineno = 0, tcap = 256;
    int32_t *ids = NULL;
    size_t ids_cap = 0;
    int rc = CLI_OK;
    text = malloc(tcap);
    if (!text) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return CLI_ERR_RUNTIME;
    }
    for (;;) {
        int r = cli_read_line(in, &line, &cap, &len);
        if (r < 0) {
            rc = cli_line_error(prog, in_name, lineno + 1, r);
            break;
        }
        if (r == 0)
            break;
        lineno++;
        size_t n = 0;
        for (size_t i = 0; i < len && rc == CLI_OK;) {
            const char c = line[i];
            if (c == ' ' || c == '\t' || c == ',' || c == '[' || c == ']' || c == '\r') {
                i++;
                continue;
            }
            if (c < '0' || c > '9') {
                fprintf(stderr, "%s: %s:%zu: byte %zu: '%c' is not part of a list of token ids\n", prog, in_name,
                        lineno, i + 1, c >= 0x20 && c < 0x7F ? c : '?');
                rc = CLI_ERR_INPUT;
                break;
            }
            unsigned long long v = 0;
            size_t b0 = i;
            while (i < len && line[i] >= '0' && line[i] <= '9' && v <= INT32_MAX)
                v = v * 10 + (unsigned long long)(line[i++] - '0');
            if (v > INT32_MAX || (size_t)v >= bert_tokenizer_vocab_size(tok)) {
                fprintf(stderr, "%s: %s:%zu: byte %zu: id %.*s is not in the vocabulary (%zu ids)\n", prog, in_name,
                        lineno, b0 + 1, (int)(i - b0 > 24 ? 24 : i - b0), line + b0, bert_tokenizer_vocab_size(tok));
                rc = CLI_ERR_INPUT;
                break;
            }
            if (n == ids_cap) {
                size_t nc = ids_cap ? 2 * ids_cap : 64;
                int32_t *t = realloc(ids, nc * sizeof *ids);
                if (!t) {
                    fprintf(stderr, "%s: out of memory\n", prog);
                    rc = CLI_ERR_RUNTIME;
                    break;
                }
                ids = t;
                ids_cap = nc;
            }
            ids[n++] = (int32_t)v;
        }
        if (rc != CLI_OK)
            break;
        size_t out_len = 0;
        bert_status st = bert_tokenizer_decode(tok, ids, n, o->skip_special, text, tcap, &out_len);
        if (st == BERT_E_BUFFER_TOO_SMALL) {
            char *t = realloc(text, out_len + 1);
            if (!t) {
                fprintf(stderr, "%s: out of memory\n", prog);
                rc = CLI_ERR_RUNTIME;
                break;
            }
            text = t;
            tcap = out_len + 1;
            st = bert_tokenizer_decode(tok, ids, n, o->skip_special, text, tcap, &out_len);
        }
        if (st != BERT_OK) {
            fprintf(stderr, "%s: %s:%zu: %s\n", prog, in_name, lineno, bert_status_str(st));
            rc = st == BERT_E_NOMEM ? CLI_ERR_RUNTIME : CLI_ERR_INPUT;
            break;
        }
        printf("{\"line\":%zu,\"text\":", lineno);
        cli_json_string(stdout, text, out_len);
        fputs("}\n", stdout);
    }
    if (rc == CLI_OK && lineno == 0) {
        fprintf(stderr, "%s: %s: empty input: no lines to decode\n", prog, in_name);
        rc = CLI_ERR_INPUT;
    }
    if (rc == CLI_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "%s: standard output: write error: %s\n", prog, strerror(errno ? errno : EIO));
        rc = CLI_ERR_RUNTIME;
    }
    free(line);
    free(text);
    free(ids);
    return rc;
}

int main(int argc, char **argv)
{
    opts o;
    const int pr = parse(argc, argv, &o);
    if (pr != CLI_ARGS_OK)
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    if (o.verbose)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_DEBUG);
    else if (!o.quiet)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_WARN);

    char err[1024];
    bert_tokenizer_config ov = bert_tokenizer_default_config();
    bert_tokenizer_config *ovp = NULL;
    if (o.lower >= 0 || o.strip >= 0 || o.no_cjk || o.vocab) {
        ovp = &ov;
        if (o.lower >= 0)
            ov.do_lower_case = o.lower;
        if (o.strip >= 0)
            ov.strip_accents = o.strip;
        if (o.no_cjk)
            ov.tokenize_chinese_chars = 0;
    }
    bert_tokenizer *tok = NULL;
    bert_status st = o.json ? bert_tokenizer_load_json(o.json, &tok, err, sizeof err)
                     : o.vocab
                         ? bert_tokenizer_load_vocab(o.vocab, ovp, &tok, err, sizeof err)
                         : bert_tokenizer_load(o.model ? o.model : cli_default_model(), ovp, &tok, err, sizeof err);
    if (st != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    if (!o.enc.max_length) {
        /* no --max-length: the tokenizer file's own truncation and padding, if it has them */
        const bert_encode_params d = bert_tokenizer_encode_params(tok);
        o.enc.truncation = d.truncation;
        o.enc.max_length = d.max_length;
        o.enc.stride = d.stride;
        o.enc.padding = d.padding;
    }
    if (cli_check_specials(prog, tok,
                           o.json    ? o.json
                           : o.vocab ? o.vocab
                           : o.model ? o.model
                                     : cli_default_model()) != CLI_OK) {
        bert_tokenizer_free(tok);
        return CLI_ERR_MODEL;
    }
    FILE *in = strcmp(o.input, "-") ? fopen(o.input, "rb") : stdin;
    const char *in_name = strcmp(o.input, "-") ? o.input : "<stdin>";
    if (!in) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, o.input, strerror(errno));
        bert_tokenizer_free(tok);
        return CLI_ERR_INPUT;
    }

    if (o.decode) {
        int drc = decode_lines(&o, tok, in, in_name);
        if (in != stdin)
            fclose(in);
        bert_tokenizer_free(tok);
        return drc;
    }
    int rc = CLI_OK;
    bert_batch *b = NULL;
    lines ls = {0};
    bert_text *texts = NULL;
    ls.max = o.batch;
    ls.text = calloc(ls.max, sizeof *ls.text);
    ls.len = calloc(ls.max, sizeof *ls.len);
    ls.cap = calloc(ls.max, sizeof *ls.cap);
    ls.lineno = calloc(ls.max, sizeof *ls.lineno);
    texts = calloc(ls.max, sizeof *texts);
    if (!ls.text || !ls.len || !ls.cap || !ls.lineno || !texts || bert_batch_new(&b, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: out of memory\n", prog);
        rc = CLI_ERR_RUNTIME;
        goto done;
    }
    size_t lineno = 0;
    int eof = 0;
    while (!eof && rc == CLI_OK) {
        ls.n = 0;
        while (ls.n < ls.max) {
            int r = cli_read_line(in, &ls.text[ls.n], &ls.cap[ls.n], &ls.len[ls.n]);
            if (r < 0) {
                rc = cli_line_error(prog, in_name, lineno + 1, r);
                goto done;
            }
            if (r == 0) {
                eof = 1;
                break;
            }
            lineno++;
            size_t bad = 0;
            if (o.on_invalid != 1 && bert_utf8_check(ls.text[ls.n], ls.len[ls.n], &bad) != BERT_OK) {
                if (o.on_invalid == 2) {
                    if (!o.quiet)
                        fprintf(stderr, "%s: %s:%zu: warning: malformed UTF-8 at byte %zu, line skipped\n", prog,
                                in_name, lineno, bad);
                    continue;
                }
                fprintf(stderr, "%s: %s:%zu: malformed UTF-8 at byte %zu of the line\n", prog, in_name, lineno, bad);
                rc = CLI_ERR_INPUT;
                goto done;
            }
            bert_text *t = &texts[ls.n];
            t->a = ls.text[ls.n];
            t->a_len = ls.len[ls.n];
            t->b = NULL;
            t->b_len = 0;
            if (o.pair) {
                char *tab = memchr(t->a, '\t', t->a_len);
                if (!tab) {
                    fprintf(stderr, "%s: %s:%zu: --pair needs a TAB between the two texts\n", prog, in_name, lineno);
                    rc = CLI_ERR_INPUT;
                    goto done;
                }
                t->b = tab + 1;
                t->b_len = t->a_len - (size_t)(tab + 1 - t->a);
                t->a_len = (size_t)(tab - t->a);
            }
            ls.lineno[ls.n] = lineno;
            ls.n++;
        }
        if (eof && lineno == 0) { /* as bert-classify: an empty file is an error, not an empty result */
            fprintf(stderr, "%s: %s: empty input: no lines to tokenize\n", prog, in_name);
            rc = CLI_ERR_INPUT;
            goto done;
        }
        if (ls.n == 0)
            break;
        st = bert_batch_encode(b, tok, texts, ls.n, &o.enc);
        if (st != BERT_OK) {
            /* The message starts with "input K": name the file line instead. */
            const char *m = bert_batch_errmsg(b);
            size_t k = 0;
            if (sscanf(m, "input %zu", &k) == 1 && k < ls.n)
                fprintf(stderr, "%s: %s:%zu: %s\n", prog, in_name, ls.lineno[k], m);
            else
                fprintf(stderr, "%s: %s: %s\n", prog, in_name, m);
            rc = st == BERT_E_NOMEM ? CLI_ERR_RUNTIME : CLI_ERR_INPUT;
            goto done;
        }
        rc = emit(&o, tok, b, texts, &ls);
    }
    if (rc == CLI_OK && fflush(stdout) != 0) {
        fprintf(stderr, "%s: standard output: write error: %s\n", prog, strerror(errno));
        rc = CLI_ERR_RUNTIME;
    }
done:
    if (in && in != stdin)
        fclose(in);
    for (size_t i = 0; ls.text && i < ls.max; i++)
        free(ls.text[i]);
    free(ls.text);
    free(ls.len);
    free(ls.cap);
    free(ls.lineno);
    free(texts);
    bert_batch_free(b);
    bert_tokenizer_free(tok);
    return rc;
}
