/* Prints the size and field offsets of every public structure the Python package mirrors with
 * ctypes (python/libbert/_capi.py), one "Struct field offset" line per field and "Struct size N":
 * python/tests/test_capi.py compares them with ctypes' layout, so a field added in C and not in
 * Python fails a test instead of shifting every later field. */
#include <stddef.h>
#include <stdio.h>

#include <bert/bert.h>

#define F(S, T, f) printf("%s %s %zu\n", S, #f, offsetof(T, f))
#define Z(S, T)    printf("%s size %zu\n", S, sizeof(T))

int main(void)
{
    Z("Span", bert_span);
    F("Span", bert_span, begin);
    F("Span", bert_span, end);
    Z("Text", bert_text);
    F("Text", bert_text, a);
    F("Text", bert_text, a_len);
    F("Text", bert_text, b);
    F("Text", bert_text, b_len);
    Z("EncodeParams", bert_encode_params);
    F("EncodeParams", bert_encode_params, add_special_tokens);
    F("EncodeParams", bert_encode_params, truncation);
    F("EncodeParams", bert_encode_params, max_length);
    F("EncodeParams", bert_encode_params, stride);
    F("EncodeParams", bert_encode_params, return_overflowing);
    F("EncodeParams", bert_encode_params, padding);
    F("EncodeParams", bert_encode_params, on_invalid_utf8);
    Z("TokenizerConfig", bert_tokenizer_config);
    F("TokenizerConfig", bert_tokenizer_config, model_max_length);
    F("TokenizerConfig", bert_tokenizer_config, never_split);
    F("TokenizerConfig", bert_tokenizer_config, n_never_split);
    Z("BatchView", bert_batch_view);
    F("BatchView", bert_batch_view, ids);
    F("BatchView", bert_batch_view, offsets);
    F("BatchView", bert_batch_view, lengths);
    F("BatchView", bert_batch_view, sample_index);
    F("BatchView", bert_batch_view, truncated);
    Z("ModelParams", bert_model_params);
    F("ModelParams", bert_model_params, precision);
    F("ModelParams", bert_model_params, weights);
    Z("ModelInfo", bert_model_info);
    F("ModelInfo", bert_model_info, layer_norm_eps);
    F("ModelInfo", bert_model_info, arch_name);
    F("ModelInfo", bert_model_info, n_labels);
    F("ModelInfo", bert_model_info, dtype);
    F("ModelInfo", bert_model_info, model_type);
    F("ModelInfo", bert_model_info, max_sequence_length);
    Z("StInfo", bert_st_info);
    F("StInfo", bert_st_info, max_seq_length);
    F("StInfo", bert_st_info, default_prompt_name);
    F("StInfo", bert_st_info, pooling);
    Z("CtxParams", bert_ctx_params);
    F("CtxParams", bert_ctx_params, attn_mode);
    Z("HeadParams", bert_head_params);
    F("HeadParams", bert_head_params, top_k);
    F("HeadParams", bert_head_params, pooling);
    F("HeadParams", bert_head_params, softmax);
    F("HeadParams", bert_head_params, labels);
    F("HeadParams", bert_head_params, n_labels);
    F("HeadParams", bert_head_params, multi_label);
    F("HeadParams", bert_head_params, hypothesis_template);
    Z("Entity", bert_entity);
    F("Entity", bert_entity, score);
    F("Entity", bert_entity, index);
    F("Entity", bert_entity, word);
    F("Entity", bert_entity, bytes);
    F("Entity", bert_entity, chars);
    Z("Fill", bert_fill);
    F("Fill", bert_fill, token_id);
    F("Fill", bert_fill, token);
    F("Fill", bert_fill, score);
    return 0;
}
