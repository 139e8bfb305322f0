/* One fused AdamW step over 8-bit block-wise states (ryot.core.optim.adamw8bit_flat, the dynamic
 * code of ryot.core.quant.dynamic_code). The plain reference is the torch path in adamw8bit_flat.py;
 * this loop does the same float32 operations in the same order, one block at a time, so the
 * moments never exist in float32 outside a block-sized buffer and every value is read and written
 * once.
 *
 * Per block b (of `block` values, belonging to parameter block_param[b] from block_offset[b]):
 *   decode   m = levels_s[m_code] * m_absmax[b],  v = levels_u[v_code] * v_absmax[b]
 *   update   m = lerp(m, g, w1);  v = v*beta2 + w2*g*g  (w1 = 1-beta1, w2 = 1-beta2)
 *            p = p*decay;  p = p + step*m / (sqrt(v)/bias2_sqrt + eps)    (torch AdamW's order:
 *            ATen's lerp, addcmul and addcdiv formulas; the caller computes the scalars)
 *   encode   absmax = max|x|; n = x / absmax (clamped); code = low[n>>16] + (n > above[n>>16])
 *            (the vector paths read both from one small table: see code_t)
 * Values past the end of a parameter (block padding) have gradient 0 and update no parameter.
 * The first sample_values values of every parameter add their squared quantization error and
 * squared values to sample[4*p .. 4*p+3] of their parameter p (exp_avg error, exp_avg norm,
 * exp_avg_sq error, exp_avg_sq norm), block after block in block order (within a block: eight
 * double lanes, see sample_scalar).
 *
 * Four implementations of one block, chosen at run time (ryot_adamw8bit_isa): AVX-512 VBMI (16
 * lanes, tables looked up by byte permutes), AVX-512 (16 lanes, gathers), AVX2 (8 lanes, gathers)
 * and portable C. Every one does the same IEEE float32 operations on every value (no fused
 * multiply-add: -ffp-contract=off; sqrt and division are correctly rounded in every ISA), so all
 * give the same bits — tests/core/optim/test_adamw8bit_isa.py checks it.
 * Blocks are split over `threads` threads in contiguous ranges (OpenMP when built with -fopenmp,
 * else POSIX threads); a block's result does not depend on which thread ran it, and the sampled
 * errors are summed afterwards in block order.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RYOT_X86 1
#endif

enum { ISA_AUTO = 0, ISA_PORTABLE = 1, ISA_AVX2 = 2, ISA_AVX512 = 3, ISA_AVX512VBMI = 4 };
enum { BINADES = 32, LOWEST_EXPONENT = 96 };  /* as ryot/core/optim/encode_table.py */

typedef struct {
    const float *restrict levels;
    const uint8_t *restrict low;
    const float *restrict above;
    /* the vector paths' one table (ryot/core/optim/encode_table.py): per bucket of a value's
     * bits (its binade and the top 0-7 bits of its mantissa, as `binades` says per binade:
     * offset | shift << 16), low | key << 8, where key is the bucket's midpoint as the mantissa
     * bits below the bucket's (flipped for negative values) or all ones where there is none; a
     * value is above the midpoint exactly when its own such bits are greater. `width` entries
     * per sign, positive first; binades below 2**-31 share the lowest; NaN encodes as 0. */
    const uint32_t *restrict table;
    const uint32_t *restrict binades;
    int32_t width;
    /* the AVX-512 VBMI path's byte tables (adamw8bit_avx512vbmi.h: PLANE_BYTES) */
    const uint8_t *restrict planes;
    float lo_clamp;
} code_t;

typedef struct {  /* what every block of one call shares */
    int64_t block;
    const int32_t *block_param;
    const int64_t *block_offset;
    float *const *params;
    const float *const *grads;
    const int64_t *sizes;
    uint8_t *m_codes, *v_codes;
    float *m_absmax, *v_absmax;
    code_t s, u;
    float w1, beta2, w2, step, decay, bias2_sqrt, eps;
    int use_decay;
    int64_t sample_values;
    double *block_err;  /* 4 per block (the caller's), written and read for sampled blocks only */
} job_t;

/* The scalar formulas every path uses for its tail (and the portable path for everything). */
static inline float lerp_scalar(float mi, float gi, float w1) {
    return w1 < 0.5f ? mi + w1 * (gi - mi) : gi - (gi - mi) * (1.0f - w1);
}

static inline uint8_t encode_scalar(const code_t *c, float x, float safe) {
    float n = x / safe;
    n = n < c->lo_clamp ? c->lo_clamp : (n > 1.0f ? 1.0f : n);
    uint32_t bits;
    memcpy(&bits, &n, sizeof bits);
    const uint32_t bucket = bits >> 16;
    return (uint8_t)(c->low[bucket] + (n > c->above[bucket]));
}

typedef struct {  /* one block's inputs and buffers */
    const uint8_t *mc, *vc;  /* the codes read (and rewritten by the encode) */
    float ma, va;            /* their scales */
    const float *g;          /* gradient: `valid` values, then zeros to `n` */
    float *m, *v;            /* block buffers: the updated moments */
    float *p;                /* the parameter's first value of this block */
    int64_t n, valid;        /* values in the block; of them, inside the parameter */
} block_t;

/* Decode + update of m and v for values [from, n), the parameter for [p_from, valid), and the
 * largest |m| and |v| seen (tops). max |x| is taken on the bits of |x|, which order like the
 * values (no NaN here): an integer max vectorizes where a float one would need -ffast-math. */
static void update_scalar(const job_t *j, const block_t *k, int64_t from, int64_t p_from,
                          uint32_t tops[2]) {
    for (int64_t i = from; i < k->n; i++) {
        const float mi = j->s.levels[k->mc[i]] * k->ma, gi = k->g[i];
        const float vi = j->u.levels[k->vc[i]] * k->va * j->beta2;
        k->m[i] = lerp_scalar(mi, gi, j->w1);
        k->v[i] = vi + j->w2 * gi * gi;
    }
    for (int64_t i = p_from; i < k->valid; i++) {
        const float pi = j->use_decay ? k->p[i] * j->decay : k->p[i];
        const float denom = sqrtf(k->v[i]) / j->bias2_sqrt + j->eps;
        k->p[i] = pi + j->step * k->m[i] / denom;
    }
    const float *x[2] = {k->m, k->v};
    for (int w = 0; w < 2; w++)
        for (int64_t i = from; i < k->n; i++) {
            uint32_t bits;
            memcpy(&bits, &x[w][i], sizeof bits);
            bits &= 0x7FFFFFFFu;
            tops[w] = bits > tops[w] ? bits : tops[w];
        }
}

static void encode_range_scalar(const code_t *c, const float *x, float safe, uint8_t *codes,
                                int64_t from, int64_t to) {
    for (int64_t i = from; i < to; i++) codes[i] = encode_scalar(c, x[i], safe);
}

/* The sampled error of values [from, to) of a block: value i adds its squared error (against
 * its code's level times the block's scale) to err[i % 8] and its square to norm[i % 8], in
 * double. Eight lanes, each summed in value order, so every ISA (and the vector paths' eight
 * double lanes) adds the same numbers in the same order. */
static void sample_scalar(const code_t *c, const float *x, const uint8_t *codes, float amax,
                          int64_t from, int64_t to, double err[8], double norm[8]) {
    for (int64_t i = from; i < to; i++) {
        const double back = (double)(c->levels[codes[i]] * amax), xi = (double)x[i];
        err[i & 7] += (xi - back) * (xi - back);
        norm[i & 7] += xi * xi;
    }
}

static double sum8(const double a[8]) {  /* the lanes' fixed order of summation */
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

typedef struct {  /* one ISA's vector parts of a block */
    /* decode + update + parameter + tops, as update_scalar, for values [0, end) and the
     * parameter for [0, *p_end); returns end (the scalar loop does the rest) */
    int64_t (*update)(const job_t *, const block_t *, int64_t *p_end, uint32_t tops[2]);
    /* codes of x[0, end) / safe; returns end */
    int64_t (*encode)(const code_t *, const float *, float, uint8_t *, int64_t);
    /* sample_scalar for values [0, end) of [0, count); returns end */
    int64_t (*sample)(const code_t *, const float *, const uint8_t *, float, int64_t, double[8],
                      double[8]);
} isa_t;

static int64_t none_update(const job_t *j, const block_t *k, int64_t *p_end, uint32_t tops[2]) {
    (void)j, (void)k, (void)tops;
    *p_end = 0;
    return 0;
}
static int64_t none_encode(const code_t *c, const float *x, float safe, uint8_t *codes, int64_t n) {
    (void)c, (void)x, (void)safe, (void)codes, (void)n;
    return 0;
}
static int64_t none_sample(const code_t *c, const float *x, const uint8_t *codes, float amax,
                           int64_t count, double err[8], double norm[8]) {
    (void)c, (void)x, (void)codes, (void)amax, (void)count, (void)err, (void)norm;
    return 0;
}
static const isa_t PORTABLE = {none_update, none_encode, none_sample};

#ifdef RYOT_X86
#include "adamw8bit_avx2.h"
#include "adamw8bit_avx512.h"
#include "adamw8bit_avx512vbmi.h"
#endif

static const isa_t *chosen_isa(int requested, int *which) {
    if (requested < ISA_AUTO || requested > ISA_AVX512VBMI) requested = ISA_AUTO;  /* unknown */
#ifdef RYOT_X86
    __builtin_cpu_init();
    const int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    const int has2 = __builtin_cpu_supports("avx2");
    if ((requested == ISA_AUTO || requested == ISA_AVX512VBMI) && has512 &&
        __builtin_cpu_supports("avx512vbmi")) {
        *which = ISA_AVX512VBMI;
        return &AVX512VBMI;
    }
    if ((requested == ISA_AUTO || requested >= ISA_AVX512) && has512) {
        *which = ISA_AVX512;
        return &AVX512;
    }
    if ((requested == ISA_AUTO || requested >= ISA_AVX2) && has2) {
        *which = ISA_AVX2;
        return &AVX2;
    }
#else
    (void)requested;
#endif
    *which = ISA_PORTABLE;
    return &PORTABLE;
}

/* The ISA a call with `requested` runs (requests the CPU lacks fall to the next one down). */
int ryot_adamw8bit_isa(int requested) {
    int which;
    chosen_isa(requested, &which);
    return which;
}

static void step_block(const job_t *j, const isa_t *isa, int64_t b, float *m, float *v, float *g) {
    const int64_t block = j->block;
    const int32_t pi = j->block_param[b];
    const int64_t off = j->block_offset[b], size = j->sizes[pi];
    const int64_t valid = size - off < block ? size - off : block;
    const float *grad = j->grads[pi] + off;
    if (valid < block) {  /* the last block of a parameter: padding has gradient 0 */
        memcpy(g, grad, sizeof(float) * valid);
        memset(g + valid, 0, sizeof(float) * (block - valid));
        grad = g;
    }
    uint8_t *mc = j->m_codes + b * block, *vc = j->v_codes + b * block;
    const block_t k = {mc, vc, j->m_absmax[b], j->v_absmax[b], grad, m, v, j->params[pi] + off,
                       block, valid};
    uint32_t tops[2] = {0, 0};
    int64_t p_end;
    const int64_t end = isa->update(j, &k, &p_end, tops);
    update_scalar(j, &k, end, p_end, tops);
    const int64_t sampled = j->sample_values < size ? j->sample_values : size;
    int64_t count = sampled - off;
    count = count < 0 ? 0 : (count > block ? block : count);
    const code_t *codes[2] = {&j->s, &j->u};
    const float *values[2] = {m, v};
    uint8_t *out[2] = {mc, vc};
    float *scales[2] = {&j->m_absmax[b], &j->v_absmax[b]};
    for (int w = 0; w < 2; w++) {
        float amax;
        memcpy(&amax, &tops[w], sizeof amax);
        const float safe = amax > 0.0f ? amax : 1.0f;
        *scales[w] = amax;
        encode_range_scalar(codes[w], values[w], safe, out[w],
                            isa->encode(codes[w], values[w], safe, out[w], block), block);
        if (count > 0) {
            double err[8] = {0}, norm[8] = {0};
            sample_scalar(codes[w], values[w], out[w], amax,
                          isa->sample(codes[w], values[w], out[w], amax, count, err, norm), count,
                          err, norm);
            j->block_err[4 * b + 2 * w] = sum8(err);
            j->block_err[4 * b + 2 * w + 1] = sum8(norm);
        }
    }
}

typedef struct {
    const job_t *job;
    const isa_t *isa;
    int64_t first, end;
    int failed;
} range_t;

static void *run_range(void *arg) {
    range_t *r = arg;
    const int64_t block = r->job->block;
    float *buf = malloc(sizeof(float) * 3 * block);
    if (!buf) {
        r->failed = 1;
        return NULL;
    }
    for (int64_t b = r->first; b < r->end; b++)
        step_block(r->job, r->isa, b, buf, buf + block, buf + 2 * block);
    free(buf);
    return NULL;
}

#define MAX_THREADS 64

int ryot_adamw8bit_step(int64_t nblocks, int64_t block, const int32_t *block_param,
                        const int64_t *block_offset, float *const *params, const float *const *grads,
                        const int64_t *sizes, uint8_t *m_codes, float *m_absmax, uint8_t *v_codes,
                        float *v_absmax, const float *levels_s, const uint8_t *low_s,
                        const float *above_s, const uint32_t *table_s, const uint32_t *binades_s,
                        int32_t width_s, const uint8_t *planes_s, const float *levels_u,
                        const uint8_t *low_u, const float *above_u, const uint32_t *table_u,
                        const uint32_t *binades_u, int32_t width_u, const uint8_t *planes_u,
                        float w1, float beta2, float w2, float step,
                        float decay, int use_decay, float bias2_sqrt, float eps,
                        int64_t sample_values, double *sample, double *block_err,
                        int isa_request, int threads) {
    int which;
    const isa_t *isa = chosen_isa(isa_request, &which);
    job_t job = {block, block_param, block_offset, params, grads, sizes, m_codes, v_codes,
                 m_absmax, v_absmax,
                 {levels_s, low_s, above_s, table_s, binades_s, width_s, planes_s, -1.0f},
                 {levels_u, low_u, above_u, table_u, binades_u, width_u, planes_u, 0.0f},
                 w1, beta2, w2, step, decay, bias2_sqrt, eps,
                 use_decay, sample_values, block_err};
    threads = threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : threads);
    if (threads > nblocks) threads = nblocks > 0 ? (int)nblocks : 1;
    range_t ranges[MAX_THREADS];
    for (int t = 0; t < threads; t++)
        ranges[t] = (range_t){&job, isa, nblocks * t / threads, nblocks * (t + 1) / threads, 0};
    int failed = 0;
#ifdef _OPENMP
    /* torch's own OpenMP runtime where torch uses one (the same libgomp.so.1 is already loaded,
     * so its threads, still spinning after torch's last parallel region, take the ranges) */
#pragma omp parallel for num_threads(threads) schedule(static, 1) reduction(| : failed)
    for (int t = 0; t < threads; t++) {
        run_range(&ranges[t]);
        failed |= ranges[t].failed;
    }
#else
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, run_range, &ranges[t]) == 0;
    for (int t = 1; t < threads; t++)  /* a thread that could not start: its range runs here */
        if (!started[t]) run_range(&ranges[t]);
    run_range(&ranges[0]);
    failed = ranges[0].failed;
    for (int t = 1; t < threads; t++) {
        if (started[t]) pthread_join(ids[t], NULL);
        failed |= ranges[t].failed;
    }
#endif
    if (sample_values > 0 && !failed) {
        for (int64_t b = 0; b < nblocks; b++) {
            const int64_t off = block_offset[b], size = sizes[block_param[b]];
            const int64_t sampled = sample_values < size ? sample_values : size;
            if (sampled - off > 0)
                for (int k = 0; k < 4; k++)
                    sample[4 * (int64_t)block_param[b] + k] += job.block_err[4 * b + k];
        }
    }
    return failed;
}

/* Codes of x[0..n) divided by `safe` (n a multiple of 16) with one ISA: what the step's encode
 * does, for tests that compare the ISAs value by value. Returns the ISA used. */
int ryot_adamw8bit_encode(int isa_request, int is_signed, const float *x, int64_t n, float safe,
                          const float *levels, const uint8_t *low, const float *above,
                          const uint32_t *table, const uint32_t *binades, int32_t width,
                          const uint8_t *planes, uint8_t *codes) {
    int which;
    const isa_t *isa = chosen_isa(isa_request, &which);
    const code_t c = {levels, low, above, table, binades, width, planes, is_signed ? -1.0f : 0.0f};
    encode_range_scalar(&c, x, safe, codes, isa->encode(&c, x, safe, codes, n), n);
    return which;
}
