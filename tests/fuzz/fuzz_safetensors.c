/* libFuzzer target: the safetensors validation (header length, JSON header, dtypes, shapes, offsets). */
#include <stdlib.h>
#include <string.h>

#include "encoder/encoder.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bert__checkpoint ck;
    memset(&ck, 0, sizeof ck);
    char err[256];
    bert_status st = bert__safetensors_parse(data, size, "fuzz", 0, &ck, err, sizeof err);
    if (st == BERT_OK) {
        /* what was accepted lies inside the buffer */
        for (size_t i = 0; i < ck.n; i++)
            if (ck.tensors[i].data < data || ck.tensors[i].data + ck.tensors[i].nbytes > data + size)
                abort();
    } else if (!err[0]) {
        abort(); /* every refusal says why */
    }
    bert__checkpoint_close(&ck);
    return 0;
}
