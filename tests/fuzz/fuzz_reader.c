/* libFuzzer target: bert-classify's input record reader (text, TSV columns, JSONL fields). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    reader_opts o;
    memset(&o, 0, sizeof o);
    o.format = (reader_format)(data[0] % 3);
    o.text_col = 1 + ((data[0] >> 2) & 3);
    o.pair_col = (data[0] >> 4) & 3;
    o.label_col = (data[0] >> 6) & 3;
    o.pair_field = (data[0] & 0x10) ? "pair" : NULL;
    o.label_field = (data[0] & 0x40) ? "label" : NULL;
    reader_record rec;
    char err[256];
    const char *line = (const char *)data + 1;
    if (reader_parse(&o, line, size - 1, &rec, err, sizeof err) == 0) {
        if (!rec.a && o.format != 2)
            abort();
        if (o.format != 2 && rec.a && (rec.a < line || rec.a + rec.a_len > line + size - 1))
            abort();
        reader_record_free(&rec);
    }
    /* --on-invalid for JSONL: the count and the in-place fix of lone surrogate escapes agree, keep
     * the length, and leave none behind */
    char *copy = malloc(size);
    if (copy) {
        memcpy(copy, line, size - 1);
        const size_t n = reader_lone_surrogates(copy, size - 1, 0);
        if (reader_lone_surrogates(copy, size - 1, 1) != n || reader_lone_surrogates(copy, size - 1, 0) != 0)
            abort();
        free(copy);
    }
    return 0;
}
