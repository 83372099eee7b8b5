/* Loading a Hugging Face BERT checkpoint and running the encoder.
 *
 *   bert_model *m = NULL;
 *   char err[512];
 *   if (bert_model_load("path/to/hf-folder", NULL, &m, err, sizeof err) != BERT_OK) { puts(err); ... }
 *   bert_ctx *ctx = NULL;                        // one per thread
 *   bert_ctx_new(m, NULL, &ctx, err, sizeof err);
 *   bert_ctx_run(ctx, ids, type_ids, mask, batch, seq_len, NULL);
 *   const float *h = bert_ctx_hidden(ctx, -1);   // [batch, seq_len, hidden], valid until the next run
 *   bert_ctx_free(ctx);
 *   bert_model_free(m);
 *
 * A bert_model is immutable after load and may be shared by any number of threads, each with its
 * own bert_ctx. A ctx borrows its model: free every ctx before the model. */
#ifndef BERT_MODEL_H
#define BERT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <bert/export.h>
#include <bert/status.h>
#include <bert/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bert_model bert_model;
typedef struct bert_ctx bert_ctx;

/* ------------------------------------------------------------------------------------------------
 * Model
 * ---------------------------------------------------------------------------------------------- */

/* The arithmetic of the encoder layers' matrix products (the rest, LayerNorm, softmax, the
 * residual stream and the heads, is always F32). Chosen at load: the weights are packed once in
 * that type. */
typedef enum bert_precision {
    BERT_PRECISION_F32 = 0,  /* default: matches Hugging Face within 1e-5 */
    BERT_PRECISION_BF16 = 1, /* bf16 products, F32 accumulation: ~2x faster where the CPU has
                                AVX512_BF16; BERT_E_UNSUPPORTED where oneDNN has no bf16 kernel */
    BERT_PRECISION_INT8 = 2  /* weights s8 per output channel, activations u8 quantised per call
                                (dynamic, asymmetric per tensor), s32 accumulation; on CPUs whose
                                oneDNN kernels lack VNNI the weights use 7 bits (no 16-bit
                                saturation) */
} bert_precision;

/* Where the encoder's F32 matmul weights live. */
typedef enum bert_weights {
    BERT_WEIGHTS_PACKED = 0, /* default: copied at load into the layout the CPU's GEMM reads
                                fastest */
    BERT_WEIGHTS_MAPPED = 1  /* read in place from the checkpoint's read-only mapping, as the file
                                stores them ([out, in]), by dnnl_sgemm transposing on the fly: the
                                load is a header parse plus mapping the page cache (several times
                                faster than packing), and processes loading the same file share
                                its pages; the products run somewhat slower at small batches and
                                the same at large ones (docs/performance.md).
                                Applies to F32 products (precision F32; the pooler in any
                                precision) when every layer weight in the file is F32, else the
                                weights are packed as by default. The file must not change while
                                the model lives (it is mapped). */
} bert_weights;

typedef struct bert_model_params {
    int load_tokenizer;       /* 1 (default): also load vocab.txt/tokenizer_config.json when present */
    bert_precision precision; /* BERT_PRECISION_F32 (default) */
    bert_weights weights;     /* BERT_WEIGHTS_PACKED (default) */
} bert_model_params;

BERT_API bert_model_params bert_model_default_params(void);

/* Loads dir/config.json and dir/model.safetensors (or the shards named by
 * dir/model.safetensors.index.json). Weights stored as F16 or BF16 are converted to F32 once, here.
 * Returns BERT_OK, BERT_E_IO, BERT_E_FORMAT (corrupt or inconsistent files; the message names the
 * file, the tensor and the byte offset or shape), BERT_E_SHAPE, BERT_E_UNSUPPORTED (a feature we do
 * not implement, with what to do instead), BERT_E_NOMEM, BERT_E_INVALID_ARG. */
BERT_API bert_status bert_model_load(const char *dir, const bert_model_params *params, bert_model **out, char *errbuf,
                                     size_t errbuf_size);
BERT_API void bert_model_free(bert_model *m);

typedef enum bert_activation {
    BERT_ACT_GELU = 0,      /* exact erf form ("gelu") */
    BERT_ACT_GELU_TANH = 1, /* "gelu_new", "gelu_pytorch_tanh" */
    BERT_ACT_RELU = 2,
    BERT_ACT_SILU = 3,
    BERT_ACT_TANH = 4
} bert_activation;

typedef enum bert_problem {
    BERT_PROBLEM_NONE = 0, /* no classifier */
    BERT_PROBLEM_SINGLE_LABEL = 1,
    BERT_PROBLEM_MULTI_LABEL = 2,
    BERT_PROBLEM_REGRESSION = 3
} bert_problem;

typedef enum bert_arch {
    BERT_ARCH_BASE = 0, /* BertModel: no task head */
    BERT_ARCH_SEQUENCE_CLASSIFICATION = 1,
    BERT_ARCH_TOKEN_CLASSIFICATION = 2,
    BERT_ARCH_MASKED_LM = 3,
    BERT_ARCH_CAUSAL_LM = 4, /* BertLMHeadModel */
    BERT_ARCH_MULTIPLE_CHOICE = 5
} bert_arch;

/* The configuration as loaded (config.json), read-only. */
typedef struct bert_model_info {
    size_t vocab_size;
    size_t hidden_size;
    size_t n_layers;
    size_t n_heads;
    size_t intermediate_size;
    size_t max_positions;
    size_t type_vocab_size;
    float layer_norm_eps;
    bert_activation activation;
    int is_decoder;
    int has_pooler;
    bert_arch arch;
    const char *arch_name; /* config "architectures"[0], or "BertModel" */
    bert_problem problem;
    size_t n_labels;            /* classifier outputs; 0 without a classifier */
    const char *dtype;          /* stored weight type: "F32", "F16" or "BF16" */
    size_t weight_bytes;        /* bytes of weights the model holds: converted, packed (in the
                                   precision's type) and F32 tables read in place from the file */
    size_t mapped_bytes;        /* of weight_bytes, those read in place from the file's mapping (the
                                   embedding tables when F32; with BERT_WEIGHTS_MAPPED, the matmul
                                   weights too) */
    const char *model_type;     /* the family: config "model_type" ("bert", "roberta", "xlm-roberta",
                                   "camembert", "distilbert", "electra", "albert", "mpnet",
                                   "deberta-v2"); "bert" when the config names none */
    size_t embedding_size;      /* the embedding tables' width: hidden_size, or ELECTRA's and ALBERT's
                                   embedding_size (projected to hidden_size) */
    size_t max_sequence_length; /* tokens a row may hold: max_positions, less the positions a
                                   family numbers from padding_idx + 1 (RoBERTa, MPNet: 514 -> 512) */
} bert_model_info;

BERT_API bert_model_info bert_model_get_info(const bert_model *m);
/* The name of label i from id2label ("LABEL_i" when the config has none), or NULL if i >= n_labels. */
BERT_API const char *bert_model_label(const bert_model *m, size_t i);
/* The label id for a name from label2id/id2label, or -1. */
BERT_API int32_t bert_model_label_id(const bert_model *m, const char *name);
/* The tokenizer loaded with the model, or NULL when the folder has no vocab.txt (or params said no).
 * It lives as long as the model. */
BERT_API const bert_tokenizer *bert_model_tokenizer(const bert_model *m);

/* A sentence-transformers folder (modules.json: Transformer, Pooling, Dense, Normalize), read with
 * the model; the "embed" head applies its modules unless its params override the pooling. */
typedef struct bert_st_info {
    int present;                     /* the folder has modules.json */
    size_t max_seq_length;           /* sentence_bert_config.json's; 0 when none: truncate there */
    size_t dim;                      /* the embedding's width (after Pooling and Dense) */
    int normalize;                   /* a Normalize module: unit-length vectors */
    size_t n_dense;                  /* Dense modules */
    size_t n_prompts;                /* named prompts (config_sentence_transformers.json) */
    const char *default_prompt_name; /* NULL when none */
    const char *pooling;             /* the Pooling module's (first) mode: "cls", "max", "mean",
                                        "mean_sqrt_len", "weightedmean", "lasttoken"; NULL without */
} bert_st_info;

BERT_API bert_st_info bert_model_st_info(const bert_model *m);
/* The text of a named prompt ("query" -> "query: "), which sentence-transformers prepends to each
 * text before tokenizing; NULL for a name the folder does not define. */
BERT_API const char *bert_model_prompt(const bert_model *m, const char *name);
/* The name of prompt i (i < n_prompts), or NULL. */
BERT_API const char *bert_model_prompt_name(const bert_model *m, size_t i);

/* ------------------------------------------------------------------------------------------------
 * Context: one per thread
 * ---------------------------------------------------------------------------------------------- */

typedef enum bert_attn_mode {
    BERT_ATTN_AUTO = 0, /* causal when the config says is_decoder, else bidirectional */
    BERT_ATTN_BIDIRECTIONAL = 1,
    BERT_ATTN_CAUSAL = 2
} bert_attn_mode;

typedef struct bert_ctx_params {
    int n_threads;            /* 0: the OpenMP default of the calling thread at bert_ctx_new */
    bert_attn_mode attn_mode; /* default for runs that pass BERT_ATTN_AUTO */
} bert_ctx_params;

BERT_API bert_ctx_params bert_ctx_default_params(void);

BERT_API bert_status bert_ctx_new(const bert_model *m, const bert_ctx_params *params, bert_ctx **out, char *errbuf,
                                  size_t errbuf_size);
BERT_API void bert_ctx_free(bert_ctx *ctx);
/* The message of the last failed call on ctx; "" after a success. */
BERT_API const char *bert_ctx_errmsg(const bert_ctx *ctx);

typedef struct bert_run_params {
    int all_hidden_states;    /* 1: keep the embeddings output and every layer's output */
    bert_attn_mode attn_mode; /* AUTO: the ctx's mode */
    /* 1: the caller reads only what comes from each row's first ([CLS]) position: the pooled
     * output and the logits of sequence-classification and multiple-choice models. The last layer
     * then runs its attention output, LayerNorms and feed-forward on the [CLS] rows only (about
     * 1/L of the FLOPs less for L layers); the last hidden state holds the [CLS] rows and zeros
     * elsewhere. BERT_E_INVALID_ARG for token-level models (token classification, masked and
     * causal LM) and with causal attention. The classify/sentiment heads and bert-glue set it. */
    int cls_only;
} bert_run_params;

BERT_API bert_run_params bert_run_default_params(void);

/* Runs the encoder on a padded batch: ids, type_ids (NULL: all 0) and mask (NULL: all 1) are
 * row-major [batch x seq_len]. Computes the last hidden state, the pooled output (models with a
 * pooler) and the classifier logits (sequence and token classification models).
 * Ids outside [0, vocab_size), type ids outside [0, type_vocab_size) and seq_len over
 * max_position_embeddings are BERT_E_INVALID_ARG with the row and column named.
 * Right-padded batches (each mask row ones, then zeros) run padding-free: the layers compute the
 * real tokens only, and the hidden states at padded positions are 0 (Hugging Face computes values
 * there that nothing uses); every real position is as if the row had run alone.
 * Results live in the ctx until its next run. */
BERT_API bert_status bert_ctx_run(bert_ctx *ctx, const int32_t *ids, const int32_t *type_ids, const uint8_t *mask,
                                  size_t batch, size_t seq_len, const bert_run_params *params);
/* The same on an encoded batch (its ids, type ids and attention mask). */
BERT_API bert_status bert_ctx_run_batch(bert_ctx *ctx, const bert_batch *b, const bert_run_params *params);

/* Which kernels ran the dense products of ctx's runs so far, comma-separated in the order first
 * used, each with its source and weight types: oneDNN's implementation names
 * ("brg:avx512_core_amx u8s8" on AMX, "brg:avx512_core_vnni u8s8", "gemm:jit u8s8",
 * "brg:avx512_core_bf16 bf16bf16", ...), "sgemm f32f32" for dnnl_sgemm, "qgemm:avx2 u8s8" for
 * libbert's own int8 kernel; "" before the first run. For benchmarks and bug reports: what the CPU
 * and the precision actually ran. */
BERT_API const char *bert_ctx_kernels(const bert_ctx *ctx);
/* oneDNN's effective instruction set on this CPU, e.g. "avx512_core_amx", "avx512_core_vnni",
 * "avx2" (DNNL_MAX_CPU_ISA in the environment may cap it). */
BERT_API const char *bert_cpu_isa(void);

/* Hidden states of the last run, [batch, seq_len, hidden] F32: layer -1 (or n_layers) is the last
 * layer's output, 0 the embeddings output, l the output of layer l; intermediate layers only when
 * the run asked for all_hidden_states. NULL when not available. */
BERT_API const float *bert_ctx_hidden(const bert_ctx *ctx, int layer);
/* Pooled output [batch, hidden] (dense + tanh on [CLS]), or NULL for models without a pooler. */
BERT_API const float *bert_ctx_pooled(const bert_ctx *ctx);
/* Classifier logits: [batch, n_labels] for sequence classification, [batch, seq_len, n_labels] for
 * token classification; NULL for models without a classifier. */
BERT_API const float *bert_ctx_logits(const bert_ctx *ctx);
/* Masked/causal LM head logits for n (row, position) pairs of the last run: [n, vocab_size] F32,
 * valid until the next call on ctx. NULL (with bert_ctx_errmsg) for a model without an LM head
 * (BertForMaskedLM, BertLMHeadModel), before a run, or for a pair outside the last batch. */
BERT_API const float *bert_ctx_lm_logits(bert_ctx *ctx, const size_t *rows, const size_t *positions, size_t n);
/* ---- incremental (causal) decoding with a key/value cache, one sequence per ctx ----
 * bert_ctx_prefill runs ids[0..n) with the causal mask and keeps every layer's keys and values;
 * each bert_ctx_step then adds one token at the next position for the cost of one position, not a
 * re-run of the prefix. Both leave the LM-head logits of the last position in
 * bert_ctx_next_logits() ([vocab_size], valid until the next call on ctx). The cache holds at most
 * max_position_embeddings positions: a step past that is BERT_E_TOO_LONG. Needs an LM head
 * (BertLMHeadModel, BertForMaskedLM); any model may be run causally this way. */
BERT_API bert_status bert_ctx_prefill(bert_ctx *ctx, const int32_t *ids, size_t n);
BERT_API bert_status bert_ctx_step(bert_ctx *ctx, int32_t id);
BERT_API const float *bert_ctx_next_logits(const bert_ctx *ctx);
/* Positions held by the cache (0 after bert_ctx_run, which invalidates it). */
BERT_API size_t bert_ctx_cache_len(const bert_ctx *ctx);

/* Batch and sequence length of the last successful run. */
BERT_API size_t bert_ctx_batch(const bert_ctx *ctx);
BERT_API size_t bert_ctx_seq_len(const bert_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
