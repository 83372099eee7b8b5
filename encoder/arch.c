/* The family table: one entry per Hugging Face model_type, names as transformers writes them. */
#include <string.h>

#include "encoder.h"

#define BERT_LAYER(qn, kn, vn)                                                                              \
    .q = "encoder.layer.%zu.attention.self." qn, .k = "encoder.layer.%zu.attention.self." kn,               \
    .v = "encoder.layer.%zu.attention.self." vn, .attn_out = "encoder.layer.%zu.attention.output.dense",    \
    .ln1 = "encoder.layer.%zu.attention.output.LayerNorm", .inter = "encoder.layer.%zu.intermediate.dense", \
    .out = "encoder.layer.%zu.output.dense", .ln2 = "encoder.layer.%zu.output.LayerNorm"
#define BERT_EMB                                                                   \
    .word = "embeddings.word_embeddings", .pos = "embeddings.position_embeddings", \
    .type = "embeddings.token_type_embeddings", .emb_ln = "embeddings.LayerNorm"
/* the family's config class defaults: vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 * intermediate_size, max_position_embeddings, type_vocab_size, layer_norm_eps, hidden_act */
#define DEFAULTS(V, H, L, A, I, P, T, eps, act)                                                           \
    .def_vocab = V, .def_hidden = H, .def_layers = L, .def_heads = A, .def_inter = I, .def_positions = P, \
    .def_types = T, .def_eps = eps, .def_act = act
#define ROBERTA_HEADS                                                                                \
    .pool_dense = "classifier.dense", .pool_act = BERT__POST_TANH, .cls_out = "classifier.out_proj", \
    .lm_dense = "lm_head.dense", .lm_ln = "lm_head.layer_norm", .lm_bias = "lm_head.bias",           \
    .lm_bias_alt = "lm_head.decoder.bias", .lm_decoder = "lm_head.decoder", .lm_act = BERT__POST_GELU_ERF
#define BERT_LM                                                                                    \
    .lm_dense = "cls.predictions.transform.dense", .lm_ln = "cls.predictions.transform.LayerNorm", \
    .lm_bias = "cls.predictions.bias", .lm_bias_alt = "cls.predictions.decoder.bias",              \
    .lm_decoder = "cls.predictions.decoder", .lm_act = BERT__ACT_CONFIG

#define ROBERTA_LIKE(type_, cls_)                                                                          \
    {                                                                                                      \
        .model_type = type_, .class_prefix = cls_, .prefix = "roberta.",                                   \
        DEFAULTS(50265, 768, 12, 12, 3072, 514, 2, 1e-12f, BERT_ACT_GELU), .has_eps_key = 1, .def_pad = 1, \
        .positions = BERT__POS_FROM_PAD,                                                                   \
        .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM,                     \
        .t = {BERT_EMB, BERT_LAYER("query", "key", "value")}, ROBERTA_HEADS                                \
    }

static const bert__family families[] = {
    {.model_type = "bert",
     .class_prefix = "Bert",
     .prefix = "bert.",
     DEFAULTS(30522, 768, 12, 12, 3072, 512, 2, 1e-12f, BERT_ACT_GELU),
     .has_eps_key = 1,
     .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM | BERT__TASK_CAUSAL |
              BERT__TASK_CHOICE | BERT__TASK_PRETRAIN,
     .t = {BERT_EMB, BERT_LAYER("query", "key", "value")},
     .pool_dense = "pooler.dense",
     .pool_act = BERT__POST_TANH,
     .cls_out = "classifier",
     BERT_LM},
    ROBERTA_LIKE("roberta", "Roberta"),
    /* XLM-R and CamemBERT are RoBERTa with another vocabulary; their tensors carry the prefix of
     * the class they derive from */
    ROBERTA_LIKE("xlm-roberta", "XLMRoberta"),
    ROBERTA_LIKE("camembert", "Camembert"),
    {.model_type = "distilbert",
     .class_prefix = "DistilBert",
     .prefix = "distilbert.",
     DEFAULTS(30522, 768, 6, 12, 3072, 512, 0, 1e-12f, BERT_ACT_GELU),
     .key_hidden = "dim",
     .key_layers = "n_layers",
     .key_heads = "n_heads",
     .key_inter = "hidden_dim",
     .key_act = "activation",
     .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM,
     .t = {.word = "embeddings.word_embeddings",
           .pos = "embeddings.position_embeddings",
           .emb_ln = "embeddings.LayerNorm",
           .q = "transformer.layer.%zu.attention.q_lin",
           .k = "transformer.layer.%zu.attention.k_lin",
           .v = "transformer.layer.%zu.attention.v_lin",
           .attn_out = "transformer.layer.%zu.attention.out_lin",
           .ln1 = "transformer.layer.%zu.sa_layer_norm",
           .inter = "transformer.layer.%zu.ffn.lin1",
           .out = "transformer.layer.%zu.ffn.lin2",
           .ln2 = "transformer.layer.%zu.output_layer_norm"},
     .pool_dense = "pre_classifier",
     .pool_act = BERT__POST_RELU,
     .cls_out = "classifier",
     .lm_dense = "vocab_transform",
     .lm_ln = "vocab_layer_norm",
     .lm_bias = "vocab_projector.bias",
     .lm_decoder = "vocab_projector",
     .lm_act = BERT__ACT_CONFIG},
    {.model_type = "electra",
     .class_prefix = "Electra",
     .prefix = "electra.",
     DEFAULTS(30522, 256, 12, 4, 1024, 512, 2, 1e-12f, BERT_ACT_GELU),
     .has_eps_key = 1,
     .has_embedding_size = 1,
     .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM | BERT__TASK_PRETRAIN,
     .t = {BERT_EMB, .emb_proj = "embeddings_project", BERT_LAYER("query", "key", "value")},
     /* gelu whatever hidden_act says: ElectraClassificationHead and the generator hard-code it */
     .pool_dense = "classifier.dense",
     .pool_act = BERT__POST_GELU_ERF,
     .cls_out = "classifier.out_proj",
     .lm_dense = "generator_predictions.dense",
     .lm_ln = "generator_predictions.LayerNorm",
     .lm_bias = "generator_lm_head.bias",
     .lm_decoder = "generator_lm_head",
     .lm_act = BERT__POST_GELU_ERF,
     /* *ForPreTraining is the replaced-token discriminator */
     .disc_dense = "discriminator_predictions.dense",
     .disc_out = "discriminator_predictions.dense_prediction"},
    {.model_type = "albert",
     .class_prefix = "Albert",
     .prefix = "albert.",
     DEFAULTS(30000, 4096, 12, 64, 16384, 512, 2, 1e-12f, BERT_ACT_GELU_TANH),
     .has_eps_key = 1,
     .has_embedding_size = 1,
     .shared_groups = 1,
     .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM | BERT__TASK_PRETRAIN,
     .t = {BERT_EMB, .emb_proj = "encoder.embedding_hidden_mapping_in",
           .q = "encoder.albert_layer_groups.%zu.albert_layers.0.attention.query",
           .k = "encoder.albert_layer_groups.%zu.albert_layers.0.attention.key",
           .v = "encoder.albert_layer_groups.%zu.albert_layers.0.attention.value",
           .attn_out = "encoder.albert_layer_groups.%zu.albert_layers.0.attention.dense",
           .ln1 = "encoder.albert_layer_groups.%zu.albert_layers.0.attention.LayerNorm",
           .inter = "encoder.albert_layer_groups.%zu.albert_layers.0.ffn",
           .out = "encoder.albert_layer_groups.%zu.albert_layers.0.ffn_output",
           .ln2 = "encoder.albert_layer_groups.%zu.albert_layers.0.full_layer_layer_norm"},
     .pool_dense = "pooler",
     .pool_act = BERT__POST_TANH,
     .cls_out = "classifier",
     /* AlbertForPreTraining's masked-LM half (its sentence-order head is left out) */
     .lm_dense = "predictions.dense",
     .lm_ln = "predictions.LayerNorm",
     .lm_bias = "predictions.bias",
     .lm_bias_alt = "predictions.decoder.bias",
     .lm_decoder = "predictions.decoder",
     .lm_act = BERT__ACT_CONFIG},
    {.model_type = "mpnet",
     .class_prefix = "MPNet",
     .prefix = "mpnet.",
     DEFAULTS(30527, 768, 12, 12, 3072, 514, 0, 1e-12f, BERT_ACT_GELU),
     .has_eps_key = 1,
     .def_pad = 1,
     .positions = BERT__POS_FROM_PAD,
     .relative = BERT__REL_BUCKET_BIAS,
     .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM,
     .t = {.word = "embeddings.word_embeddings",
           .pos = "embeddings.position_embeddings",
           .emb_ln = "embeddings.LayerNorm",
           .q = "encoder.layer.%zu.attention.attn.q",
           .k = "encoder.layer.%zu.attention.attn.k",
           .v = "encoder.layer.%zu.attention.attn.v",
           .attn_out = "encoder.layer.%zu.attention.attn.o",
           .ln1 = "encoder.layer.%zu.attention.LayerNorm",
           .inter = "encoder.layer.%zu.intermediate.dense",
           .out = "encoder.layer.%zu.output.dense",
           .ln2 = "encoder.layer.%zu.output.LayerNorm",
           .rel_bias = "encoder.relative_attention_bias"},
     ROBERTA_HEADS},
    {.model_type = "deberta-v2",
     .class_prefix = "DebertaV2",
     .prefix = "deberta.",
     DEFAULTS(128100, 1536, 24, 24, 6144, 512, 0, 1e-7f, BERT_ACT_GELU),
     .has_eps_key = 1,
     .positions = BERT__POS_NONE,
     .relative = BERT__REL_DISENTANGLED,
     .tasks = BERT__TASK_BASE | BERT__TASK_SEQ | BERT__TASK_TOKEN | BERT__TASK_MLM,
     .t = {BERT_EMB, BERT_LAYER("query_proj", "key_proj", "value_proj"), .rel_emb = "encoder.rel_embeddings",
           .rel_ln = "encoder.LayerNorm"},
     .pool_dense = "pooler.dense",
     .pool_act = BERT__ACT_POOLER,
     .cls_out = "classifier",
     BERT_LM},
};

const bert__family *bert__family_find(const char *model_type)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i].model_type, model_type))
            return &families[i];
    return NULL;
}

const bert__family *bert__family_default(void)
{
    return &families[0];
}

const char *bert__family_list(void)
{
    return "bert, roberta, xlm-roberta, camembert, distilbert, electra, albert, mpnet, deberta-v2";
}
