/* The architecture registry: what makes one BERT-style family differ from another, as data.
 *
 * Every family here is the same post-LayerNorm encoder (attention, residual, LayerNorm, feed-forward,
 * residual, LayerNorm) built by one layer builder (layer.c); a family entry says where its tensors
 * are, which config keys it spells differently, how it numbers positions, which heads it has and
 * how they are laid out. Code exists only where the math differs: the relative position terms of
 * MPNet and DeBERTa (relpos.c) and ALBERT's shared layers (a layer table pointing at its groups).
 * Adding a family is one entry in arch.c; see docs/models.md. */
#ifndef BERT_ARCH_H
#define BERT_ARCH_H

#include <stddef.h>

/* How absolute positions are numbered. */
typedef enum bert__positions {
    BERT__POS_INDEX = 0, /* position t for token t (BERT) */
    BERT__POS_FROM_PAD,  /* padding_idx + 1 + the count of non-pad tokens so far; pad tokens get
                            padding_idx (HF's create_position_ids_from_input_ids: RoBERTa, MPNet) */
    BERT__POS_NONE       /* no absolute position table (DeBERTa-v3: position_biased_input false) */
} bert__positions;

/* The relative position term added to the attention scores. */
typedef enum bert__relative {
    BERT__REL_NONE = 0,
    BERT__REL_BUCKET_BIAS, /* MPNet: a learned [buckets, heads] bias by T5-style bucket of j - i,
                              shared by all layers */
    BERT__REL_DISENTANGLED /* DeBERTa-v2/v3: content-to-position and position-to-content terms
                              from shared relative embeddings projected by each layer */
} bert__relative;

/* Where a task head's activation comes from. */
enum { BERT__ACT_CONFIG = -1 /* the config's hidden activation */, BERT__ACT_POOLER = -2 /* pooler_hidden_act */ };

/* The task classes a family's checkpoints come in (architectures[0] = class_prefix + suffix). */
enum {
    BERT__TASK_BASE = 1 << 0,
    BERT__TASK_SEQ = 1 << 1,
    BERT__TASK_TOKEN = 1 << 2,
    BERT__TASK_MLM = 1 << 3,
    BERT__TASK_CAUSAL = 1 << 4,
    BERT__TASK_CHOICE = 1 << 5,
    BERT__TASK_PRETRAIN = 1 << 6 /* BertForPreTraining: its masked-LM half */
};

/* Tensor roles. Per-layer names hold one %zu (the layer, or ALBERT's group); a linear or a
 * LayerNorm is named without its ".weight"/".bias". */
typedef struct bert__tensor_names {
    const char *word, *pos, *type, *emb_ln;
    const char *emb_proj; /* embedding_size -> hidden_size projection, or NULL */
    const char *q, *k, *v, *attn_out, *ln1, *inter, *out, *ln2;
    const char *rel_bias;         /* MPNet [buckets, heads] */
    const char *rel_emb, *rel_ln; /* DeBERTa [2 * span, hidden] and its LayerNorm */
} bert__tensor_names;

typedef struct bert__family {
    const char *model_type;   /* config.json "model_type" */
    const char *class_prefix; /* "Bert", "XLMRoberta", ...: the architectures' class names */
    const char *prefix;       /* the base model's tensors inside a task checkpoint: "bert." */
    /* config keys where the family spells them its own way (DistilBERT) */
    const char *key_hidden, *key_layers, *key_heads, *key_inter, *key_act;
    /* the family's config class defaults for keys a config.json may leave out */
    size_t def_vocab, def_hidden, def_layers, def_heads, def_inter, def_positions, def_types;
    float def_eps;
    int def_act; /* bert_activation */
    int def_pad;
    int has_eps_key;        /* 0: LayerNorm eps is fixed at def_eps (DistilBERT) */
    int has_embedding_size; /* config "embedding_size" (ELECTRA, ALBERT) */
    bert__positions positions;
    bert__relative relative;
    int shared_groups; /* ALBERT: num_hidden_groups weight sets shared by the layers */
    unsigned tasks;    /* BERT__TASK_* */
    bert__tensor_names t;
    /* sequence classification: dense + activation on the first token ("pooled"), then the output
     * projection; pool_dense is also the bare model's pooler where the file has one */
    const char *pool_dense;
    int pool_act; /* bert__post value, or BERT__ACT_POOLER */
    const char *cls_out;
    /* masked LM: transform dense + activation + LayerNorm (embedding_size wide), then the decoder
     * (tied to the word embeddings when the file has no decoder weight) with its bias */
    const char *lm_dense, *lm_ln, *lm_bias, *lm_bias_alt, *lm_decoder;
    int lm_act; /* bert__post value, or BERT__ACT_CONFIG */
    /* *ForPreTraining as a replaced-token discriminator (ELECTRA): dense + the config's activation
     * + a one-logit projection per token; NULL: *ForPreTraining is the masked LM (BERT, ALBERT) */
    const char *disc_dense, *disc_out;
} bert__family;

/* The family of a config.json "model_type", or NULL. */
const bert__family *bert__family_find(const char *model_type);
/* "bert, roberta, ..." for messages. */
const char *bert__family_list(void);
/* The family of the built-in default (BERT) when a config names none. */
const bert__family *bert__family_default(void);

#endif
