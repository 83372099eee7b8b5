/* Tensor names as transformers writes them (with or without the "bert." prefix, the old
 * LayerNorm.gamma/beta spelling), checked against config.json, converted once to F32 into one
 * arena the model owns, with query/key/value fused into one [3H, H] matrix. The file pages of each
 * tensor are released as soon as it is converted, so loading never holds two F32 copies. */
#define _DEFAULT_SOURCE /* madvise */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "encoder.h"

typedef struct loader {
    bert_model *m;
    const char *file; /* for messages */
    float *next;      /* bump pointer into m->arena */
    char *errbuf;
    size_t errbuf_size;
} loader;

static void shape_str(const size_t *s, size_t nd, char *out, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(out + k, n - k, "[");
    for (size_t i = 0; i < nd && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, i ? ",%zu" : "%zu", s[i]);
    if (k < n)
        snprintf(out + k, n - k, "]");
}

/* Finds a tensor under HF's spellings: with and without "bert.", LayerNorm.weight/.gamma. */
static const bert__tensor *find(const bert__checkpoint *ck, const char *name, char *found, size_t found_size)
{
    static const char *const prefixes[] = {"bert.", ""};
    for (int p = 0; p < 2; p++) {
        for (int old = 0; old < 2; old++) {
            char n[256];
            snprintf(n, sizeof n, "%s%s", prefixes[p], name);
            if (old) {
                char *dot = strrchr(n, '.');
                if (!strstr(n, "LayerNorm.") || !dot)
                    continue;
                if (!strcmp(dot, ".weight"))
                    strcpy(dot, ".gamma");
                else if (!strcmp(dot, ".bias"))
                    strcpy(dot, ".beta");
                else
                    continue;
            }
            const bert__tensor *t = bert__checkpoint_find(ck, n);
            if (t) {
                snprintf(found, found_size, "%s", n);
                return t;
            }
        }
    }
    return NULL;
}

/* Converts tensor `name` of the expected shape into the arena; *out points at it. */
static bert_status take(loader *L, const char *name, size_t d0, size_t d1, const float **out)
{
    const bert_model *m = L->m;
    char found[256];
    const bert__tensor *t = find(&m->ck, name, found, sizeof found);
    if (!t)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_FORMAT, "%s: tensor '%s%s' is missing", L->file,
                                strncmp(name, "classifier", 10) && strncmp(name, "cls.", 4) ? "bert." : "", name);
    const size_t want[2] = {d0, d1};
    const size_t nd = d1 ? 2 : 1;
    if (t->ndim != nd || t->shape[0] != d0 || (d1 && t->shape[1] != d1)) {
        char got[64], exp[64];
        shape_str(t->shape, t->ndim, got, sizeof got);
        shape_str(want, nd, exp, sizeof exp);
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_SHAPE,
                                "%s: tensor '%s' has shape %s, expected %s from config.json", L->file, found, got, exp);
    }
    if ((int)t->dtype < 0)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_UNSUPPORTED,
                                "%s: tensor '%s' is not a floating-point tensor (weights must be F32, F16 or BF16)",
                                L->file, found);
    const size_t n = d0 * (d1 ? d1 : 1);
    float *dst = L->next;
    if (t->dtype == BERT__F32)
        memcpy(dst, t->data, n * sizeof *dst);
    else if (t->dtype == BERT__F16)
        bert__f16_to_f32((const uint16_t *)(const void *)t->data, dst, n);
    else
        bert__bf16_to_f32((const uint16_t *)(const void *)t->data, dst, n);
    L->next += n;
    /* The converted copy is all we keep: hand the file pages back now (whole pages only). */
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)t->data + page - 1) & ~(page - 1), b = ((uintptr_t)t->data + t->nbytes) & ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
    *out = dst;
    return BERT_OK;
}

static bert_status take_linear(loader *L, const char *prefix, size_t out, size_t in, bert__linear *lin)
{
    char n[192];
    bert_status st;
    snprintf(n, sizeof n, "%s.weight", prefix);
    if ((st = take(L, n, out, in, &lin->w)) != BERT_OK)
        return st;
    snprintf(n, sizeof n, "%s.bias", prefix);
    if ((st = take(L, n, out, 0, &lin->b)) != BERT_OK)
        return st;
    lin->in = in;
    lin->out = out;
    return BERT_OK;
}

static bert_status take_ln(loader *L, const char *prefix, size_t H, const float **g, const float **b)
{
    char n[192];
    bert_status st;
    snprintf(n, sizeof n, "%s.LayerNorm.weight", prefix);
    if ((st = take(L, n, H, 0, g)) != BERT_OK)
        return st;
    snprintf(n, sizeof n, "%s.LayerNorm.bias", prefix);
    return take(L, n, H, 0, b);
}

/* Query, key and value as one [3H, H] matrix and [3H] bias: one matmul instead of three. */
static bert_status take_qkv(loader *L, size_t l, size_t H, bert__linear *qkv)
{
    static const char *const parts[3] = {"query", "key", "value"};
    float *w = L->next, *b = L->next + 3 * H * H;
    L->next += 3 * H * H + 3 * H;
    for (int i = 0; i < 3; i++) {
        char n[192];
        bert__linear part;
        snprintf(n, sizeof n, "encoder.layer.%zu.attention.self.%s", l, parts[i]);
        float *save = L->next;
        bert_status st = take_linear(L, n, H, H, &part);
        if (st != BERT_OK)
            return st;
        memcpy(w + (size_t)i * H * H, part.w, H * H * sizeof *w);
        memcpy(b + (size_t)i * H, part.b, H * sizeof *b);
        L->next = save; /* the scratch copy is reused by the next part */
    }
    qkv->w = w;
    qkv->b = b;
    qkv->in = H;
    qkv->out = 3 * H;
    return BERT_OK;
}

/* A tensor for a layer the config does not have means the two files disagree. */
static bert_status check_extra_layers(loader *L)
{
    const bert_model_info *in = &L->m->cfg.info;
    for (size_t i = 0; i < L->m->ck.n; i++) {
        const char *s = strstr(L->m->ck.tensors[i].name, "encoder.layer.");
        if (!s)
            continue;
        size_t l = 0;
        if (sscanf(s, "encoder.layer.%zu.", &l) == 1 && l >= in->n_layers)
            return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_SHAPE,
                                    "%s: tensor '%s' belongs to layer %zu but config.json says num_hidden_layers %zu",
                                    L->file, L->m->ck.tensors[i].name, l, in->n_layers);
    }
    return BERT_OK;
}

bert_status bert__weights_load(bert_model *m, const char *dir, char *errbuf, size_t errbuf_size)
{
    const bert_model_info *in = &m->cfg.info;
    const size_t H = in->hidden_size, I = in->intermediate_size, L_ = in->n_layers;
    bert_status st = bert__checkpoint_open(dir, &m->ck, errbuf, errbuf_size);
    if (st != BERT_OK)
        return st;
    loader L = {m, m->ck.n_files == 1 ? m->ck.paths[0] : dir, NULL, errbuf, errbuf_size};
    if ((st = check_extra_layers(&L)) != BERT_OK)
        return st;
    char found[256];
    m->cfg.info.has_pooler = find(&m->ck, "pooler.dense.weight", found, sizeof found) != NULL;
    const int has_cls = in->arch == BERT_ARCH_SEQUENCE_CLASSIFICATION || in->arch == BERT_ARCH_TOKEN_CLASSIFICATION ||
                        in->arch == BERT_ARCH_MULTIPLE_CHOICE;
    if (has_cls && in->arch != BERT_ARCH_TOKEN_CLASSIFICATION && !in->has_pooler)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: %s needs the pooler, but tensor 'bert.pooler.dense.weight' is missing", L.file,
                                in->arch_name);

    /* Every float the model keeps, counted before one allocation: embeddings, per layer the fused
     * QKV plus one part's scratch, the rest of the layer, the pooler and the classifier. */
    size_t n = (in->vocab_size + in->max_positions + in->type_vocab_size + 2) * H;
    n += L_ * ((3 * H * H + 3 * H) + (H * H + H) + (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H);
    if (in->has_pooler)
        n += H * H + H;
    if (has_cls)
        n += in->n_labels * H + in->n_labels;
    const int has_lm = in->arch == BERT_ARCH_MASKED_LM || in->arch == BERT_ARCH_CAUSAL_LM;
    const int lm_untied = has_lm && find(&m->ck, "cls.predictions.decoder.weight", found, sizeof found) != NULL &&
                          !m->cfg.tie_word_embeddings;
    if (has_lm)
        n += (H * H + H) + 2 * H + in->vocab_size + (lm_untied ? in->vocab_size * H : 0);
    m->arena = bert__calloc_big(n, sizeof *m->arena);
    m->layers = bert__calloc(L_, sizeof *m->layers);
    m->arena_floats = m->arena ? n : 0;
    if (!m->arena || !m->layers)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating %zu MB of weights", L.file,
                                n * sizeof(float) >> 20);
    L.next = m->arena;

    if ((st = take(&L, "embeddings.word_embeddings.weight", in->vocab_size, H, &m->word_emb)) ||
        (st = take(&L, "embeddings.position_embeddings.weight", in->max_positions, H, &m->pos_emb)) ||
        (st = take(&L, "embeddings.token_type_embeddings.weight", in->type_vocab_size, H, &m->type_emb)) ||
        (st = take_ln(&L, "embeddings", H, &m->emb_ln_g, &m->emb_ln_b)))
        return st;
    for (size_t l = 0; l < L_; l++) {
        bert__layer *y = &m->layers[l];
        char p[128];
        if ((st = take_qkv(&L, l, H, &y->qkv)) != BERT_OK)
            return st;
        snprintf(p, sizeof p, "encoder.layer.%zu.attention.output.dense", l);
        if ((st = take_linear(&L, p, H, H, &y->attn_out)) != BERT_OK)
            return st;
        snprintf(p, sizeof p, "encoder.layer.%zu.attention.output", l);
        if ((st = take_ln(&L, p, H, &y->ln1_g, &y->ln1_b)) != BERT_OK)
            return st;
        snprintf(p, sizeof p, "encoder.layer.%zu.intermediate.dense", l);
        if ((st = take_linear(&L, p, I, H, &y->inter)) != BERT_OK)
            return st;
        snprintf(p, sizeof p, "encoder.layer.%zu.output.dense", l);
        if ((st = take_linear(&L, p, H, I, &y->out)) != BERT_OK)
            return st;
        snprintf(p, sizeof p, "encoder.layer.%zu.output", l);
        if ((st = take_ln(&L, p, H, &y->ln2_g, &y->ln2_b)) != BERT_OK)
            return st;
    }
    if (in->has_pooler && (st = take_linear(&L, "pooler.dense", H, H, &m->pooler)) != BERT_OK)
        return st;
    if (has_cls && (st = take_linear(&L, "classifier", in->n_labels, H, &m->classifier)) != BERT_OK)
        return st;
    if (has_lm) {
        bert__lm_head *lm = &m->lm;
        if ((st = take_linear(&L, "cls.predictions.transform.dense", H, H, &lm->transform)) != BERT_OK ||
            (st = take_ln(&L, "cls.predictions.transform", H, &lm->ln_g, &lm->ln_b)) != BERT_OK ||
            (st = take(&L, "cls.predictions.bias", in->vocab_size, 0, &lm->decoder.b)) != BERT_OK)
            return st;
        if (lm_untied) {
            if ((st = take(&L, "cls.predictions.decoder.weight", in->vocab_size, H, &lm->decoder.w)) != BERT_OK)
                return st;
        } else {
            lm->decoder.w = m->word_emb; /* tied */
        }
        lm->decoder.in = H;
        lm->decoder.out = in->vocab_size;
    }
    m->cfg.info.weight_bytes = (size_t)(L.next - m->arena) * sizeof(float);
    return BERT_OK;
}
