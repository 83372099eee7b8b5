/* libbert's side of the Unicode sweep: reads what scripts/unicode_sweep.js wrote from Hugging Face
 * tokenizers (every Unicode scalar value alone and inside a word: hex code point, mode 0/1, ids,
 * offsets in code points; then generated strings: hex UTF-8 bytes, mode 2, ids, offsets),
 * tokenizes the same strings and counts the rows that differ, printing the first ones with their
 * text. Exit 0 only when every row is identical (ids and offsets) and every code point was there
 * in both modes.
 * Usage: unicode_sweep HF_TSV (--vocab VOCAB lower|cased | --dir MODEL_DIR | --json TOKENIZER_JSON) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/bert.h>

static size_t encode_utf8(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: unicode_sweep HF_TSV (--vocab VOCAB lower|cased | --dir MODEL_DIR | --json FILE)\n");
        return 2;
    }
    char err[512];
    bert_tokenizer *tok = NULL;
    bert_status st;
    if (!strcmp(argv[2], "--vocab") && argc == 5) {
        bert_tokenizer_config cfg = bert_tokenizer_default_config();
        cfg.do_lower_case = !strcmp(argv[4], "lower");
        st = bert_tokenizer_load_vocab(argv[3], &cfg, &tok, err, sizeof err);
    } else if (!strcmp(argv[2], "--json")) {
        st = bert_tokenizer_load_json(argv[3], &tok, err, sizeof err);
    } else {
        st = bert_tokenizer_load(argv[3], NULL, &tok, err, sizeof err);
    }
    FILE *f = fopen(argv[1], "r");
    bert_batch *b = NULL;
    if (st != BERT_OK || !f || bert_batch_new(&b, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "unicode_sweep: %s\n", st != BERT_OK ? err : argv[1]);
        return 2;
    }
    static unsigned char seen[2][0x110000];
    char *line = NULL, got[65536], text[4096];
    size_t cap = 0, rows = 0, diffs = 0, generated = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *cp_s = strtok(line, "\t"), *mode_s = strtok(NULL, "\t"), *ids_s = strtok(NULL, "\t"),
             *offs_s = strtok(NULL, "\t"), *dec_s = strtok(NULL, "\t");
        if (!cp_s || !mode_s || !ids_s || !offs_s) {
            fprintf(stderr, "unicode_sweep: %s: malformed row %zu\n", argv[1], rows + 1);
            return 2;
        }
        size_t len = 0;
        rows++;
        if (mode_s[0] == '2') { /* a generated string, as hex bytes */
            for (const char *h = cp_s; h[0] && h[1] && len < sizeof text; h += 2) {
                const char pair[3] = {h[0], h[1], 0};
                text[len++] = (char)strtoul(pair, NULL, 16);
            }
            generated++;
            goto compare;
        }
        const uint32_t cp = (uint32_t)strtoul(cp_s, NULL, 16);
        const int mode = mode_s[0] == '1';
        if (cp >= 0x110000 || (cp >= 0xD800 && cp <= 0xDFFF) || seen[mode][cp]++) {
            fprintf(stderr, "unicode_sweep: %s: row %zu: U+%04X unexpected or repeated\n", argv[1], rows + 1,
                    (unsigned)cp);
            return 2;
        }
        if (mode)
            text[len++] = 'a';
        len += encode_utf8(cp, text + len);
        if (mode)
            text[len++] = 'b';
    compare:;
        bert_text t = {text, len, NULL, 0};
        bert_encode_params p = bert_encode_default_params();
        size_t w = 0;
        if (bert_batch_encode(b, tok, &t, 1, &p) != BERT_OK) {
            w = (size_t)snprintf(got, sizeof got, "error: %s", bert_batch_errmsg(b));
        } else {
            const bert_batch_view v = bert_batch_get(b);
            bert_span chars[512];
            const size_t m = v.lengths[0] < 512 ? v.lengths[0] : 512;
            if (bert_spans_to_codepoints(text, len, v.offsets, m, chars) != BERT_OK)
                w = (size_t)snprintf(got, sizeof got, "bad offsets");
            for (size_t i = 0; i < m && w < sizeof got - 32; i++)
                w += (size_t)snprintf(got + w, sizeof got - w, i ? ",%d" : "%d", (int)v.ids[i]);
            w += (size_t)snprintf(got + w, sizeof got - w, "\t");
            for (size_t i = 0; i < m && w < sizeof got - 48; i++)
                w +=
                    (size_t)snprintf(got + w, sizeof got - w, i ? ",%zu-%zu" : "%zu-%zu", chars[i].begin, chars[i].end);
        }
        if (dec_s && mode_s[0] == '2' && w < sizeof got - 16) {
            /* the decoder: HF's text of the ids, special tokens skipped, as hex */
            const bert_batch_view v = bert_batch_get(b);
            char dtext[16384];
            size_t dl = 0;
            w += (size_t)snprintf(got + w, sizeof got - w, "\t");
            if (v.n_rows && bert_tokenizer_decode(tok, v.ids, v.lengths[0], 1, dtext, sizeof dtext, &dl) == BERT_OK)
                for (size_t i = 0; i < dl && w < sizeof got - 4; i++)
                    w += (size_t)snprintf(got + w, sizeof got - w, "%02x", (unsigned char)dtext[i]);
            else
                w += (size_t)snprintf(got + w, sizeof got - w, "decode-error");
        }
        char want[65536];
        if (dec_s && mode_s[0] == '2')
            snprintf(want, sizeof want, "%s\t%s\t%s", ids_s, offs_s, dec_s);
        else
            snprintf(want, sizeof want, "%s\t%s", ids_s, offs_s);
        if (strcmp(got, want) != 0 && diffs++ < 20)
            printf("%s (%s): HF %s | libbert %s\n", cp_s,
                   mode_s[0] == '2'   ? "generated, hex UTF-8"
                   : mode_s[0] == '1' ? "in a word"
                                      : "alone",
                   want, got);
    }
    size_t missing = 0;
    for (int m = 0; m < 2; m++)
        for (uint32_t c = 0; c < 0x110000; c++)
            missing += !(c >= 0xD800 && c <= 0xDFFF) && !seen[m][c];
    printf("unicode_sweep: %zu rows (%zu generated strings), %zu differ, %zu code points missing\n", rows, generated,
           diffs, missing);
    free(line);
    fclose(f);
    bert_batch_free(b);
    bert_tokenizer_free(tok);
    return diffs || missing ? 1 : 0;
}
