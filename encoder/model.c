/* bert_model: config.json + safetensors weights (+ the tokenizer when the folder has one). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "encoder.h"

bert_model_params bert_model_default_params(void)
{
    bert_model_params p;
    memset(&p, 0, sizeof p);
    p.load_tokenizer = 1;
    return p;
}

void bert_model_free(bert_model *m)
{
    if (!m)
        return;
    bert__checkpoint_close(&m->ck);
    bert__config_free(&m->cfg);
    bert__st_free(&m->st);
    bert__free_big(m->arena, m->arena_floats * sizeof *m->arena);
    bert__free_big(m->packed, m->packed_bytes);
    bert__free(m->layers);
    bert_tokenizer_free(m->tok);
    bert__free(m);
}

bert_status bert_model_load(const char *dir, const bert_model_params *params, bert_model **out, char *errbuf,
                            size_t errbuf_size)
{
    bert_status st = BERT_OK;
    bert_model *m = NULL;
    char *cfg_path = NULL, *vocab_path = NULL, *json_path = NULL;
    const bert_model_params def = bert_model_default_params();
    const bert_model_params *p = params ? params : &def;

    if (!dir || !out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_model_load: NULL argument");
    *out = NULL;
    m = bert__calloc(1, sizeof *m);
    cfg_path = bert__path_join(dir, "config.json");
    vocab_path = bert__path_join(dir, "vocab.txt");
    json_path = bert__path_join(dir, "tokenizer.json");
    if (!m || !cfg_path || !vocab_path || !json_path) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the model", dir);
        goto fail;
    }
    if ((unsigned)p->precision > BERT_PRECISION_INT8) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                              "bert_model_load: precision %d is not a bert_precision", (int)p->precision);
        goto fail;
    }
    if ((unsigned)p->weights > BERT_WEIGHTS_MAPPED) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                              "bert_model_load: weights %d is not a bert_weights", (int)p->weights);
        goto fail;
    }
    m->precision = p->precision;
    m->weights_mode = p->weights;
    if ((st = bert__config_read(cfg_path, &m->cfg, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    if ((st = bert__weights_load(m, dir, errbuf, errbuf_size)) != BERT_OK ||
        (st = bert__st_load(dir, m->cfg.info.hidden_size, &m->st, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    /* AVX512_BF16 without AMX has one bf16 dot-product instruction per cycle for the FMA unit's two
     * f32 ones: the same peak as f32 at best, and oneDNN's bf16 kernels stay below it (see
     * docs/performance.md). A user who asked for bf16 to go faster should hear it. */
    if (p->precision == BERT_PRECISION_BF16 && dnnl_get_effective_cpu_isa() != dnnl_cpu_isa_avx512_core_amx)
        bert__log(BERT_LOG_WARN,
                  "%s: bf16 on this CPU (%s, no AMX) is usually slower than f32; int8 is the faster reduced "
                  "precision here",
                  dir, bert__cpu_isa_name());
    /* Unless a tensor is read in place, everything now lives in the arenas: the mappings can go. */
    if (!m->uses_mapping)
        bert__checkpoint_close(&m->ck);
    /* tokenizer.json (every family ships one) or vocab.txt (BERT's older folders) */
    if (p->load_tokenizer && (access(json_path, F_OK) == 0 || access(vocab_path, F_OK) == 0)) {
        if ((st = bert_tokenizer_load(dir, NULL, &m->tok, errbuf, errbuf_size)) != BERT_OK)
            goto fail;
        /* a vocabulary larger than the embedding table would hand the model ids it cannot look
         * up (bert_ctx_run refuses them); a smaller one is common (padded embedding tables) */
        if (bert_tokenizer_vocab_size(m->tok) > m->cfg.info.vocab_size)
            bert__log(BERT_LOG_WARN, "%s: the tokenizer has %zu tokens but config.json says vocab_size %zu", dir,
                      bert_tokenizer_vocab_size(m->tok), m->cfg.info.vocab_size);
    }
    *out = m;
    m = NULL;
fail:
    bert__free(cfg_path);
    bert__free(vocab_path);
    bert__free(json_path);
    bert_model_free(m);
    return st;
}

bert_model_info bert_model_get_info(const bert_model *m)
{
    bert_model_info i;
    if (m)
        return m->cfg.info;
    memset(&i, 0, sizeof i);
    return i;
}

const char *bert_model_label(const bert_model *m, size_t i)
{
    if (!m || !m->cfg.labels || i >= m->cfg.info.n_labels)
        return NULL;
    return m->cfg.labels[i];
}

int32_t bert_model_label_id(const bert_model *m, const char *name)
{
    if (!m || !name || !m->cfg.labels)
        return -1;
    for (size_t i = 0; i < m->cfg.info.n_labels; i++)
        if (!strcmp(m->cfg.labels[i], name))
            return (int32_t)i;
    return -1;
}

const bert_tokenizer *bert_model_tokenizer(const bert_model *m)
{
    return m ? m->tok : NULL;
}

bert_st_info bert_model_st_info(const bert_model *m)
{
    bert_st_info i;
    memset(&i, 0, sizeof i);
    if (!m)
        return i;
    i.present = m->st.present;
    i.max_seq_length = m->st.max_seq_length;
    i.dim = m->st.present ? m->st.dim : m->cfg.info.hidden_size;
    i.normalize = m->st.normalize;
    i.n_dense = m->st.n_dense;
    i.n_prompts = m->st.n_prompts;
    i.default_prompt_name = m->st.default_prompt;
    static const char *const pools[] = {"cls", "max", "mean", "mean_sqrt_len", "weightedmean", "lasttoken"};
    for (unsigned b = 0; b < 6 && m->st.present; b++)
        if (m->st.modes & (1u << b)) {
            i.pooling = pools[b];
            break;
        }
    return i;
}

const char *bert_model_prompt(const bert_model *m, const char *name)
{
    return m && name ? bert__st_prompt(&m->st, name) : NULL;
}

const char *bert_model_prompt_name(const bert_model *m, size_t i)
{
    return m && i < m->st.n_prompts ? m->st.prompt_names[i] : NULL;
}
