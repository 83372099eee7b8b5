/* The loader's room: config.json, safetensors checkpoints, the weights' conversion and packing.
 * Internal; never installed. */
#ifndef BERT_LOADER_H
#define BERT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <bert/model.h>

#include "../common/common.h"
#include "arch.h"

/* ---- config.c: config.json ---- */
typedef struct bert__config {
    bert_model_info info; /* arch_name/dtype/model_type point into the strings below */
    char arch_name[64];
    char dtype[8];
    char model_type[32];
    char **labels; /* [n_labels] id2label names, owned */
    int tie_word_embeddings;
    int32_t pad_token_id;
    const bert__family *fam;
    size_t embedding_size;     /* the embedding tables' width (hidden_size unless projected) */
    size_t n_groups;           /* weight sets: n_layers, or ALBERT's num_hidden_groups */
    bert__positions positions; /* the family's, or DeBERTa's position_biased_input */
    int32_t pos_offset;        /* BERT__POS_FROM_PAD: padding_idx + 1 */
    int pool_act, lm_act;      /* bert__post of the pooling dense and the LM transform */
    /* relative positions: MPNet's buckets; DeBERTa's span (position_buckets, or
     * max_relative_positions without buckets), log buckets, terms and LayerNorm */
    size_t rel_buckets, rel_max_distance;
    size_t rel_span, rel_log_buckets, rel_max_pos;
    int c2p, p2c, rel_ln;
    int discriminator; /* ELECTRA's *ForPreTraining: one replaced-token logit per token */
} bert__config;

bert_status bert__config_read(const char *path, bert__config *cfg, char *errbuf, size_t errbuf_size);
/* The same on bytes in memory (path only names them in messages). */
bert_status bert__config_parse(const char *data, size_t len, const char *path, bert__config *cfg, char *errbuf,
                               size_t errbuf_size);
void bert__config_free(bert__config *cfg);

/* ---- safetensors.c: mapped, validated checkpoint files ---- */
typedef enum bert__dtype { BERT__F32 = 0, BERT__F16 = 1, BERT__BF16 = 2 } bert__dtype;

typedef struct bert__tensor {
    char *name;
    bert__dtype dtype;
    size_t ndim;
    size_t shape[4];
    const unsigned char *data; /* inside the mapping */
    size_t nbytes;
    int file; /* index of the shard it lives in */
} bert__tensor;

typedef struct bert__checkpoint {
    bert__tensor *tensors;
    size_t n;
    void **maps; /* one mapping per shard */
    size_t *map_len;
    char **paths;
    size_t n_files;
} bert__checkpoint;

/* Opens dir/model.safetensors, or every shard of dir/model.safetensors.index.json. */
bert_status bert__checkpoint_open(const char *dir, bert__checkpoint *ck, char *errbuf, size_t errbuf_size);
/* Parses one safetensors image of len bytes (the validation rules, without I/O; for tests/fuzzing).
 * Tensors are appended to ck with file index `file`. */
bert_status bert__safetensors_parse(const unsigned char *data, size_t len, const char *name, int file,
                                    bert__checkpoint *ck, char *errbuf, size_t errbuf_size);
const bert__tensor *bert__checkpoint_find(const bert__checkpoint *ck, const char *name);
void bert__checkpoint_close(bert__checkpoint *ck);

/* ---- weights.c ---- */
bert_status bert__weights_load(struct bert_model *m, const char *dir, char *errbuf, size_t errbuf_size);

#endif
