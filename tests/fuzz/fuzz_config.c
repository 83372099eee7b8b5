/* libFuzzer target: config.json and tokenizer_config.json parsing (byte 0 picks which). */
#include <stdlib.h>
#include <string.h>

#include "encoder/encoder.h"
#include "fuzz.h"
#include "tokenizer/tokenizer_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char err[512] = "";
    bert_status st;
    if (data[0] & 1) {
        bert__config cfg;
        st = bert__config_parse((const char *)data + 1, size - 1, "config.json", &cfg, err, sizeof err);
        if (st == BERT_OK) {
            /* what the loader and the run rely on: a family, a projection only narrowing, ALBERT's
             * groups dividing the layers, positions from padding that leave room */
            if (cfg.info.hidden_size % cfg.info.n_heads || !cfg.fam || cfg.embedding_size > cfg.info.hidden_size ||
                cfg.n_groups == 0 || cfg.info.n_layers % cfg.n_groups ||
                (size_t)cfg.pos_offset >= cfg.info.max_positions || (cfg.discriminator && cfg.info.n_labels != 1))
                abort();
            bert__config_free(&cfg);
        }
    } else {
        bert_tokenizer_config c = bert_tokenizer_default_config();
        bert__config_strings owned;
        st = bert__tokenizer_config_parse((const char *)data + 1, size - 1, "tokenizer_config.json", &c, &owned, err,
                                          sizeof err);
        if (st == BERT_OK)
            bert__config_strings_free(&owned);
    }
    if (st != BERT_OK && !err[0])
        abort();
    return 0;
}
