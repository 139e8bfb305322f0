/* Single-token decode attention straight from the int8 paged KV cache (ryot.core.kv.cache): the
 * codes are read where they lie, never written out as float32 pages first. The plain reference
 * is the cache's torch path (dequantize the pages, then scaled_dot_product_attention); the tests
 * hold this loop to a float64 reference as closely as that path.
 *
 * Layout, per layer (the cache's, see QuantizedKVCache._new_storage):
 *   k_codes  int8  (pages, H, P, D)        keys, per channel over groups of G tokens
 *   k_scales bf16  (pages, H, P/G, D)     (bfloat16 bits, widened to float32 as they are read)
 *   v_codes  int8  (pages, H, P, D)        values, per token over groups of VG channels
 *   v_scales bf16  (pages, H, P, D/VG)
 *   residual f32   (B, H, G, D)            the newest keys of each sequence, not yet quantized
 *   table    int32 (B, width)              each sequence's pages in order; lengths int32 (B)
 * For query row b, head h (q and out: (B, H, D) float32), with n = lengths[b] tokens, of which
 * the first full = n / G * G have quantized keys:
 *   s_t   = sum_d (q_d / sqrt(D) * k_scale[g(t), d]) * k_code[t, d]     (t < full)
 *   s_t   = sum_d  q_d / sqrt(D) * residual[t - full, d]                 (full <= t < n)
 *   out_d = sum_t exp(s_t - max s) * v_scale[t, d / VG] * v_code[t, d] / sum_t exp(s_t - max s)
 * Vectors are GCC's vector extensions, 16 lanes; the loop (kv_attend_body.h) is compiled for
 * AVX-512, AVX2 and portable C, and the best one the CPU runs is chosen at run time; (b, h)
 * pairs are split over OpenMP threads where the build has it. D and VG must be multiples of 16 (the caller checks).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef float f16v __attribute__((vector_size(64)));
typedef int32_t i16v __attribute__((vector_size(64)));
typedef int8_t c16v __attribute__((vector_size(16)));
typedef float f16v_u __attribute__((vector_size(64), aligned(4)));  /* unaligned loads */
typedef int8_t c16v_u __attribute__((vector_size(16), aligned(1)));

#define INLINE static inline __attribute__((always_inline))  /* compiled into each clone */

INLINE f16v load_f(const float *p) { return *(const f16v_u *)p; }

typedef uint16_t h16v __attribute__((vector_size(32)));
typedef uint16_t h16v_u __attribute__((vector_size(32), aligned(2)));
typedef uint32_t u16v __attribute__((vector_size(64)));

/* 16 bfloat16 values (their bits) as floats: each is the top half of its float32. */
INLINE f16v load_bf16(const uint16_t *p) {
    const u16v wide = __builtin_convertvector(*(const h16v_u *)p, u16v) << 16;
    f16v v;
    memcpy(&v, &wide, sizeof v);
    return v;
}

INLINE float bf16_to_float(uint16_t bits) {
    const uint32_t wide = (uint32_t)bits << 16;
    float x;
    memcpy(&x, &wide, sizeof x);
    return x;
}

INLINE f16v load_codes(const int8_t *p) {
    const c16v c = *(const c16v_u *)p;  /* widened to int32 first: two instructions */
    return __builtin_convertvector(__builtin_convertvector(c, i16v), f16v);
}

INLINE f16v splat(float x) { return (f16v){0} + x; }

INLINE float hsum(f16v v) {  /* a tree of 4 shuffles and adds */
    v += __builtin_shuffle(v, (i16v){8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7});
    v += __builtin_shuffle(v, (i16v){4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3});
    v += __builtin_shuffle(v, (i16v){2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1});
    v += __builtin_shuffle(v, (i16v){1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0});
    return v[0];
}

/* exp(x) for x <= 0 (Cephes' expf: range reduction by ln 2, a degree-6 polynomial; ~2 ulp). */
INLINE f16v choose(i16v mask, f16v yes, f16v no) {
    return (f16v)(((i16v)yes & mask) | ((i16v)no & ~mask));
}

INLINE f16v exp16(f16v x) {
    x = choose(x < splat(-87.0f), splat(-87.0f), x);
    const f16v fx = x * splat(1.44269504088896341f) + splat(0.5f);
    i16v n = __builtin_convertvector(fx, i16v);                  /* truncates toward zero */
    f16v f = __builtin_convertvector(n, f16v);
    n = n + (i16v)(f > fx);                                      /* floor: -1 where it rounded up */
    f = __builtin_convertvector(n, f16v);
    const f16v r = x - f * splat(0.693359375f) - f * splat(-2.12194440e-4f);
    f16v y = splat(1.9875691500e-4f);
    y = y * r + splat(1.3981999507e-3f);
    y = y * r + splat(8.3334519073e-3f);
    y = y * r + splat(4.1665795894e-2f);
    y = y * r + splat(1.6666665459e-1f);
    y = y * r + splat(5.0000001201e-1f);
    y = y * r * r + r + splat(1.0f);
    const i16v bits = (n + 127) << 23;
    f16v two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    return y * two_n;
}

typedef struct {
    int64_t B, H, P, G, D, VG, width;
    const float *q;
    const int8_t *k_codes, *v_codes;
    const uint16_t *k_scales, *v_scales;  /* bfloat16 bits */
    const float *residual;
    const int32_t *table, *lengths;
    float *out;
} attend_t;

#define MAX_D 512

INLINE f16v load_codes_portable(const int8_t *p) {
    f16v v;
    for (int i = 0; i < 16; i++) v[i] = (float)p[i];
    return v;
}
#define NAME attend_one_portable
#define TARGET
#define LOAD_CODES load_codes_portable
#include "kv_attend_body.h"
#undef NAME
#undef TARGET
#undef LOAD_CODES

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RYOT_X86 1

__attribute__((target("avx2"))) INLINE f16v load_codes_avx2(const int8_t *p) {
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
    const __m256 hi =
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8))));
    f16v v;
    memcpy(&v, &lo, sizeof lo);
    memcpy((char *)&v + sizeof lo, &hi, sizeof hi);
    return v;
}
#define NAME attend_one_avx2
#define TARGET __attribute__((target("avx2")))
#define LOAD_CODES load_codes_avx2
#include "kv_attend_body.h"
#undef NAME
#undef TARGET
#undef LOAD_CODES

__attribute__((target("avx512f"))) INLINE f16v load_codes_avx512(const int8_t *p) {
    return (f16v)_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}
#define NAME attend_one_avx512
#define TARGET __attribute__((target("avx512f")))
#define LOAD_CODES load_codes_avx512
#include "kv_attend_body.h"
#undef NAME
#undef TARGET
#undef LOAD_CODES
#endif

typedef void (*attend_fn)(const attend_t *, int64_t, int64_t, float *);

enum { ISA_AUTO = 0, ISA_PORTABLE = 1, ISA_AVX2 = 2, ISA_AVX512 = 3 };

/* The loop for `requested` (ryot.core.native.ISAS), as adamw8bit.c chooses: the best the CPU
 * runs at or below the request (AVX-512, AVX2, portable; an AVX-512 VBMI request runs the
 * AVX-512 loop, which looks nothing up); its ISA code in *which. */
static attend_fn chosen(int requested, int *which) {
#ifdef RYOT_X86
    __builtin_cpu_init();
    if ((requested == ISA_AUTO || requested >= ISA_AVX512) && __builtin_cpu_supports("avx512f")) {
        *which = ISA_AVX512;
        return attend_one_avx512;
    }
    if (requested != ISA_PORTABLE && __builtin_cpu_supports("avx2")) {
        *which = ISA_AVX2;
        return attend_one_avx2;
    }
#else
    (void)requested;
#endif
    *which = ISA_PORTABLE;
    return attend_one_portable;
}

int ryot_kv_attend_isa(int requested) {
    int which;
    chosen(requested, &which);
    return which;
}

/* Returns 0, or 1 when D is not a multiple of 16 up to MAX_D, VG does not divide D in multiples
 * of 16, or scratch memory could not be had. */
int ryot_kv_attend(int64_t B, int64_t H, int64_t P, int64_t G, int64_t D, int64_t VG,
                   int64_t width, const float *q, const int8_t *k_codes, const uint16_t *k_scales,
                   const int8_t *v_codes, const uint16_t *v_scales, const float *residual,
                   const int32_t *table, const int32_t *lengths, float *out, int isa_request,
                   int threads) {
    if (D % 16 || D > MAX_D || VG % 16 || D % VG || P % G) return 1;
    const attend_t a = {B, H, P, G, D, VG, width, q, k_codes, v_codes, k_scales, v_scales,
                        residual, table, lengths, out};
    int which;
    const attend_fn attend = chosen(isa_request, &which);
    int64_t longest = 0;
    for (int64_t b = 0; b < B; b++) longest = lengths[b] > longest ? lengths[b] : longest;
    const size_t scratch = (size_t)(longest + 16) * sizeof(float);
    int failed = 0;
    threads = threads < 1 ? 1 : threads;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(| : failed)
#endif
    {
        float *s = malloc(scratch);
        if (!s) failed = 1;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int64_t i = 0; i < B * H; i++)
            if (s) attend(&a, i / H, i % H, s);
        free(s);
    }
    return failed;
}
