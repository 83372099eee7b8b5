/* The backend seam: how a dense product runs. Each bert__linear is given one implementation at
 * load (oneDNN's matmul primitive on packed or plain weights, dnnl_sgemm on plain or mapped
 * weights, libbert's own int8 qgemm) and bert__matmul dispatches on it; the runtime never asks
 * which. Internal; never installed. */
#ifndef BERT_BACKEND_H
#define BERT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <dnnl.h>

#include <bert/model.h>

#include "../common/common.h"
#include "kernels.h"

/* Which implementation runs a linear's products, fixed when its weight is laid out at load. */
typedef enum bert__gemm {
    BERT__GEMM_ONEDNN = 0,   /* oneDNN's matmul primitive: packed (f32, bf16, s8) or plain [out, in] F32 */
    BERT__GEMM_SGEMM,        /* dnnl_sgemm on a plain [in, out] F32 packing (CPUs below AVX-512) */
    BERT__GEMM_SGEMM_MAPPED, /* dnnl_sgemm on HF's [out, in] parts, read in the file's mapping */
    BERT__GEMM_QGEMM         /* bert__qgemm on its 6-bit s8 layout (int8 where oneDNN's best is AVX2) */
} bert__gemm;

typedef struct bert__linear {
    const float *w; /* [out, in] row-major F32, as HF stores it; NULL when only the packed form is kept */
    const float *b; /* [out] or NULL */
    size_t in, out;
    /* Packed once at load into the blocked layout oneDNN's matmul reads fastest, in the model's
     * compute type (f32, bf16 or s8); NULL when w is used as it is. */
    const void *packed;
    dnnl_memory_desc_t packed_md;
    dnnl_data_type_t wdt; /* f32, bf16 or s8: the type of packed */
    const float *wscale;  /* s8: the dequantisation scale of each output channel */
    bert__gemm gemm;      /* the implementation that runs it */
    /* BERT_WEIGHTS_MAPPED: the weight as HF stores it, [out, in], in the checkpoint's mapping,
     * read transposed by dnnl_sgemm. A fused QKV keeps its parts apart (the file stores query,
     * key and value apart): part i gives the out / n_parts columns from i * out / n_parts.
     * n_parts 0: not used. */
    const float *parts[3];
    size_t n_parts;
} bert__linear;

/* ---- dnnl_ops.c: oneDNN primitives cached per shape in a ctx ---- */
typedef struct bert__dnnl bert__dnnl;

bert_status bert__dnnl_new(bert__dnnl **out, char *msg, size_t msg_size);
void bert__dnnl_free(bert__dnnl *d);
/* dst[M, N] (row stride ldd) = act(src[M, K] (row stride lds) . W^T + b) (+ dst when accumulate),
 * by lin's implementation (lin->gemm).
 * With bf16 or s8 packed weights the F32 src is converted (bf16) or dynamically quantised (u8 with
 * a per-call scale and zero point) into a buffer owned by d first. */
bert_status bert__matmul(bert__dnnl *d, const float *src, size_t M, size_t lds, const bert__linear *lin, float *dst,
                         size_t ldd, bert__post post, int accumulate, char *msg, size_t msg_size);
/* The same with the source and destination types spelled out: src may be bf16 already (for bf16
 * weights), dst may be bf16 (then it feeds the next bf16 matmul without a conversion). */
bert_status bert__matmul_t(bert__dnnl *d, const void *src, dnnl_data_type_t sdt, size_t M, size_t lds,
                           const bert__linear *lin, void *dst, dnnl_data_type_t ddt, size_t ldd, bert__post post,
                           int accumulate, char *msg, size_t msg_size);
/* The implementations that have run d's dense products, comma-separated in the order first used:
 * oneDNN's names ("brg:avx512_core_vnni", "gemm:jit", ...), "sgemm" for dnnl_sgemm, "qgemm:avx2". */
const char *bert__dnnl_kernels(const bert__dnnl *d);
/* oneDNN's effective ISA on this CPU (DNNL_MAX_CPU_ISA may cap it), e.g. "avx512_core_amx". */
const char *bert__cpu_isa_name(void);
/* Whether oneDNN's u8 x s8 kernels on this CPU use VNNI (exact 32-bit accumulation); without it
 * they pair products into saturating 16-bit sums and the weights are quantised to 7 bits. */
int bert__int8_has_vnni(void);
/* The int8 weights' levels either side of zero, from the kernels that will run them: 127 with VNNI
 * (oneDNN), 31 for bert__qgemm (where oneDNN's best is AVX2), 63 for oneDNN's other kernels (their
 * 16-bit pair sums would saturate with 8 bits). */
float bert__int8_weight_levels(void);
int bert__int8_uses_qgemm(void);
/* The blocked layout the matmul prefers for a K x N weight in the compute type of prec. */
bert_status bert__pack_desc(dnnl_engine_t eng, size_t K, size_t N, bert_precision prec, dnnl_memory_desc_t *md,
                            char *msg, size_t msg_size);
/* The row stride of md where it is F32 laid out plain [K][N] row-major (rows possibly padded), else 0. */
size_t bert__pack_plain_ld(const dnnl_memory_desc_t *md, size_t N);
/* Reorders w ([N, K] row-major F32, HF's [out, in]) into dst laid out as md. For s8, row n is
 * multiplied by qscale[n] first (with rounding and saturation). */
bert_status bert__pack(dnnl_engine_t eng, dnnl_stream_t stream, const float *w, size_t K, size_t N,
                       const dnnl_memory_desc_t *md, const float *qscale, void *dst, char *msg, size_t msg_size);
/* In-place LayerNorm over rows of H with scale g and shift b. */
bert_status bert__layer_norm_dnnl(bert__dnnl *d, float *x, size_t rows, size_t H, const float *g, const float *b,
                                  float eps, char *msg, size_t msg_size);

#endif
