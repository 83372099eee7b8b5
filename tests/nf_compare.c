/* Compares libbert's NFD, NFKD, NFC, NFKC and StripAccents normalizers, and the grapheme clusters
 * of its Precompiled normalizer, with HF tokenizers' answers for every scalar value
 * (scripts/hf_nf_probe.js). Prints each difference and a count per column; exit 1 if any.
 * Usage: nf_compare NF_TSV TOKENIZER_JSON_WITH_PRECOMPILED
 *        nf_compare --emit NF_TSV TOKENIZER_JSON > tokenizer/hf_nf.c   (the table of differences
 *        from utf8proc's answers, which libbert then applies) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/bert.h>

#include "tokenizer/pipe.h"

static void hexs(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (n == 0) {
        snprintf(out, cap, "-");
        return;
    }
    for (size_t i = 0; i < n;) {
        int32_t c = 0;
        size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!k)
            k = 1;
        o += (size_t)snprintf(out + o, cap - o, "%s%x", i ? "+" : "", (unsigned)c);
        if (o >= cap)
            break;
        i += k;
    }
}

static int ids_of(bert_batch *b, const bert_tokenizer *tok, const char *s, size_t n, char *out, size_t cap)
{
    bert_text t = {s, n, NULL, 0};
    if (bert_batch_encode(b, tok, &t, 1, NULL) != BERT_OK)
        return -1;
    bert_batch_view v = bert_batch_get(b);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < v.lengths[0] && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? "," : "", v.ids[i]);
    return 0;
}

static int emit;
static unsigned char gpt2[3][0x110000 / 8];
static struct {
    int kind;
    unsigned cp;
    char to[64];
} fixes[4096];
static size_t n_fixes;

static void add_fix(int kind, int32_t cp, const char *to)
{
    if (n_fixes == sizeof fixes / sizeof fixes[0]) {
        fprintf(stderr, "nf_compare: too many differences\n");
        exit(2);
    }
    fixes[n_fixes].kind = kind;
    fixes[n_fixes].cp = (unsigned)cp;
    snprintf(fixes[n_fixes].to, sizeof fixes[n_fixes].to, "%s", to);
    n_fixes++;
}

static int fix_cmp(const void *a, const void *b)
{
    const int ka = *(const int *)a, kb = *(const int *)b;
    const unsigned ca = *(const unsigned *)((const char *)a + sizeof(int)),
                   cb = *(const unsigned *)((const char *)b + sizeof(int));
    return ka != kb ? (ka > kb) - (ka < kb) : (ca > cb) - (ca < cb);
}

static void write_table(const char *tsv, const char *json)
{
    qsort(fixes, n_fixes, sizeof fixes[0], fix_cmp);
    printf("/* Where Hugging Face tokenizers' own Unicode tables differ from utf8proc's, for the NFD, NFKD,\n"
           " * NFC and NFKC normalizers (HF's normalization crate is older: no mapping for characters it\n"
           " * does not know), StripAccents (its combining-mark table is older) and the grapheme clusters of\n"
           " * the Precompiled normalizer (its segmentation crate is newer). GENERATED, do not edit:\n"
           " *   node scripts/hf_nf_probe.js %s > nf.tsv\n"
           " *   build/tests/nf_compare --emit nf.tsv %s > tokenizer/hf_nf.c\n"
           " * (HF tokenizers 0.23, npm). */\n#include \"pipe.h\"\n\nconst bert__nf_fix bert__hf_nf_fixes[] = {\n",
           json, json);
    (void)tsv;
    for (size_t i = 0; i < n_fixes; i++) {
        unsigned to[4] = {0};
        int n = 0;
        if (fixes[i].kind >= BERT__FIX_STRIP) { /* a flag or a class */
            n = atoi(fixes[i].to);
        } else if (strcmp(fixes[i].to, "-") != 0) {
            for (char *p = fixes[i].to; *p && n <= 4;) {
                if (n == 4) {
                    fprintf(stderr, "nf_compare: U+%04X maps to over 4 characters\n", fixes[i].cp);
                    exit(2);
                }
                to[n++] = (unsigned)strtoul(p, &p, 16);
                if (*p == '+')
                    p++;
            }
        }
        printf("    {%d, 0x%X, %d, {0x%X, 0x%X, 0x%X, 0x%X}},\n", fixes[i].kind, fixes[i].cp, n, to[0], to[1], to[2],
               to[3]);
    }
    printf("};\nconst size_t bert__hf_nf_n_fixes = %zu;\n", n_fixes);
    static const char *const cls[] = {"letter", "number", "space"};
    for (int k = 0; k < 3; k++) {
        printf("\n/* the GPT-2 pattern's %s class */\nconst bert__cp_range bert__hf_gpt2_%s[] = {\n", cls[k], cls[k]);
        size_t n = 0;
        for (uint32_t c = 0; c < 0x110000;) {
            if (!(gpt2[k][c / 8] >> (c % 8) & 1)) {
                c++;
                continue;
            }
            uint32_t e = c;
            while (e + 1 < 0x110000 && (gpt2[k][(e + 1) / 8] >> ((e + 1) % 8) & 1))
                e++;
            printf("    {0x%X, 0x%X},\n", (unsigned)c, (unsigned)e);
            n++;
            c = e + 1;
        }
        printf("};\nconst size_t bert__hf_gpt2_%s_n = %zu;\n", cls[k], n);
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--emit") == 0) {
        emit = 1;
        bert__hf_nf_off = 1;
        argv++;
        argc--;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: nf_compare NF_TSV TOKENIZER_JSON\n");
        return 2;
    }
    char err[512];
    bert_tokenizer *tok = NULL;
    bert_batch *b = NULL;
    FILE *f = fopen(argv[1], "r");
    if (!f || bert_tokenizer_load_json(argv[2], &tok, err, sizeof err) != BERT_OK ||
        bert_batch_new(&b, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "nf_compare: %s\n", f ? err : argv[1]);
        return 2;
    }
    static const char *const names[] = {"nfd",   "nfkd", "nfc",         "nfkc",        "strip_accents",
                                        "joins", "ccc",  "gpt2_letter", "gpt2_number", "gpt2_space"};
    const bert__norm_kind kinds[] = {BERT__N_NFD, BERT__N_NFKD, BERT__N_NFC, BERT__N_NFKC, BERT__N_STRIP_ACCENTS};
    size_t diffs[10] = {0}, rows = 0;
    char base[256], got[256], line[1024];
    ids_of(b, tok, "x\xc2\xa0", 3, base, sizeof base);
    while (fgets(line, sizeof line, f)) {
        char *col[11];
        size_t nc = 0;
        for (char *p = strtok(line, "\t\n"); p && nc < 11; p = strtok(NULL, "\t\n"))
            col[nc++] = p;
        if (nc != 11)
            continue;
        rows++;
        int32_t cp = (int32_t)strtol(col[0], NULL, 16);
        char s[8], x[16];
        size_t n = bert__utf8_encode(cp, s);
        for (int k = 0; k < 5; k++) {
            bert__norm nm;
            memset(&nm, 0, sizeof nm);
            nm.kind = kinds[k];
            char *o = NULL;
            size_t ol = 0;
            if (bert__normalize_string(&nm, s, n, &o, &ol) != BERT_OK)
                return 2;
            hexs(o, ol, got, sizeof got);
            bert__free(o);
            if (strcmp(got, col[1 + k]) != 0) {
                if (emit)
                    add_fix(k, cp, k == BERT__FIX_STRIP ? (strcmp(col[1 + k], "-") ? "1" : "0") : col[1 + k]);
                else if (diffs[k] < 10)
                    printf("%s U+%04X: HF %s, libbert %s\n", names[k], (unsigned)cp, col[1 + k], got);
                diffs[k]++;
            }
        }
        memcpy(x, "x\xc2\xa0", 3);
        memcpy(x + 3, s, n);
        if (ids_of(b, tok, x, n + 3, got, sizeof got) != 0)
            return 2;
        for (int k = 0; k < 3; k++) {
            const int want = atoi(col[8 + k]), have = bert__gpt2_class(cp, k);
            if (want)
                gpt2[k][cp / 8] |= (unsigned char)(1u << (cp % 8));
            if (want != have && !emit && diffs[7 + k]++ < 10)
                printf("%s U+%04X: HF %d, libbert %d\n", names[7 + k], (unsigned)cp, want, have);
        }
        const int cc = bert__hf_ccc(cp), cls = cc == 0 ? 0 : cc == 1 ? 1 : 2;
        if (cls != atoi(col[7])) {
            if (emit)
                add_fix(BERT__FIX_CCC, cp, col[7]);
            else if (diffs[6] < 10)
                printf("ccc U+%04X: HF class %s, libbert %d\n", (unsigned)cp, col[7], cc);
            diffs[6]++;
        }
        const int joins = strcmp(got, base) == 0;
        if (joins != atoi(col[6])) {
            if (emit)
                add_fix(BERT__FIX_JOINS, cp, col[6]);
            else if (diffs[5] < 10)
                printf("joins U+%04X: HF %s, libbert %d\n", (unsigned)cp, col[6], joins);
            diffs[5]++;
        }
    }
    if (emit) {
        write_table(argv[1], argv[2]);
        return 0;
    }
    size_t total = 0;
    for (int k = 0; k < 10; k++) {
        printf("%s: %zu of %zu differ\n", names[k], diffs[k], rows);
        total += diffs[k];
    }
    fclose(f);
    bert_batch_free(b);
    bert_tokenizer_free(tok);
    return total ? 1 : 0;
}
