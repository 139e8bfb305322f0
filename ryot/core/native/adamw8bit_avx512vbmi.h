/* AVX-512 VBMI parts of one block of adamw8bit.c: the AVX-512 arithmetic, but every table lookup
 * done with byte permutes (vpermi2b, the tables read from L1 as permute operands) instead of
 * gathers: on Zen 4 a 16-lane gather costs 5-7 times as much per value as these permutes
 * (docs/benchmarks.md, the AdamW8bit section).
 *
 * A 256-entry float table is kept as four byte planes (plane b: byte b of every entry, 256 bytes
 * = 4 registers' worth); 64 codes look up each plane in two permutes and a blend on their top
 * bit, and four unpacks put the bytes back together as floats. The unpacks interleave within
 * 128-bit lanes, so the codes are first permuted (ORDER) so that the floats come out in order.
 *
 * The encode is code = low + (n > mid[low]): the bucket's low code (the code of its lowest value,
 * a byte: 9-bit bucket indices, 4 permutes and two levels of blends) and then the midpoint above
 * that code (a float table looked up as above; +inf above the last code). A bucket holds at most
 * one midpoint, which is then mid[low]; where it holds none, mid[low] lies above all of the
 * bucket. The same codes as the key compare of avx512_encode (tests compare every ISA with the
 * binary search). The unsigned code leaves out the negative buckets: after the clamp at 0 its
 * only negative value is -0.0, whose code (0) is that of +0.0.
 *
 * Tables (ryot/core/optim/encode_table.py, `planes`): PLANE_LOWS the low code of every bucket
 * (zero-padded to 512), PLANE_LEVELS the levels' byte planes, PLANE_MIDS the midpoints'. */
#define VBMI_FN __attribute__((target("avx512f,avx512bw,avx512vbmi")))

enum { PLANE_LOWS = 0, PLANE_LEVELS = 512, PLANE_MIDS = 1536, PLANE_BYTES = 2560 };

/* ORDER[16L + 4m + j] = 16m + 4L + j: after it, the unpacks give values 0-15, 16-31, ... */
static const uint8_t ORDER[64] = {
    0, 1, 2, 3, 16, 17, 18, 19, 32, 33, 34, 35, 48, 49, 50, 51,
    4, 5, 6, 7, 20, 21, 22, 23, 36, 37, 38, 39, 52, 53, 54, 55,
    8, 9, 10, 11, 24, 25, 26, 27, 40, 41, 42, 43, 56, 57, 58, 59,
    12, 13, 14, 15, 28, 29, 30, 31, 44, 45, 46, 47, 60, 61, 62, 63};

/* table[codes[i]] for 64 codes, `planes` a 256-entry float table's four byte planes. */
VBMI_FN static inline __attribute__((always_inline)) void vbmi_lookup(const uint8_t *planes,
                                                                     __m512i codes, __m512 out[4]) {
    const __m512i index = _mm512_permutexvar_epi8(_mm512_loadu_si512(ORDER), codes);
    const __mmask64 high = _mm512_movepi8_mask(index);
    __m512i plane[4];
    for (int b = 0; b < 4; b++) {
        const uint8_t *t = planes + 256 * b;
        const __m512i lo = _mm512_permutex2var_epi8(_mm512_loadu_si512(t), index,
                                                    _mm512_loadu_si512(t + 64));
        const __m512i hi = _mm512_permutex2var_epi8(_mm512_loadu_si512(t + 128), index,
                                                    _mm512_loadu_si512(t + 192));
        plane[b] = _mm512_mask_blend_epi8(high, lo, hi);
    }
    const __m512i w0 = _mm512_unpacklo_epi8(plane[0], plane[1]);
    const __m512i w1 = _mm512_unpackhi_epi8(plane[0], plane[1]);
    const __m512i w2 = _mm512_unpacklo_epi8(plane[2], plane[3]);
    const __m512i w3 = _mm512_unpackhi_epi8(plane[2], plane[3]);
    out[0] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(w0, w2));
    out[1] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(w0, w2));
    out[2] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(w1, w3));
    out[3] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(w1, w3));
}

/* Four 16-lane masks as one 64-lane mask (mask m for lanes 16m..16m+15). */
VBMI_FN static inline __mmask64 vbmi_join(const __mmask16 m[4]) {
    return _cvtu64_mask64((uint64_t)m[0] | (uint64_t)m[1] << 16 | (uint64_t)m[2] << 32 |
                          (uint64_t)m[3] << 48);
}

VBMI_FN static int64_t vbmi_update(const job_t *j, const block_t *k, int64_t *p_end,
                                   uint32_t tops[2]) {
    avx512_update_t u = avx512_update_start(j, k);
    const int64_t end = k->n / 64 * 64;
    for (int64_t i = 0; i < end; i += 64) {
        __m512 m_level[4], v_level[4];
        vbmi_lookup(j->s.planes + PLANE_LEVELS, _mm512_loadu_si512(k->mc + i), m_level);
        vbmi_lookup(j->u.planes + PLANE_LEVELS, _mm512_loadu_si512(k->vc + i), v_level);
        for (int q = 0; q < 4; q++) avx512_update16(&u, k, i + 16 * q, m_level[q], v_level[q]);
    }
    return avx512_update_rest(j, k, &u, end, p_end, tops);
}

VBMI_FN static int64_t vbmi_encode(const code_t *c, const float *x, float safe, uint8_t *codes,
                                   int64_t n) {
    const __m512 scale = _mm512_set1_ps(safe), lo = _mm512_set1_ps(c->lo_clamp);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i binades_lo = _mm512_loadu_si512(c->binades);
    const __m512i binades_hi = _mm512_loadu_si512(c->binades + 16);
    const __m512i width = _mm512_set1_epi32(c->lo_clamp < 0.0f ? c->width : 0);
    const __m512i nine = _mm512_set1_epi32(256), ones = _mm512_set1_epi8(1);
    const uint8_t *lows = c->planes + PLANE_LOWS;
    const int64_t end = n / 64 * 64;
    for (int64_t i = 0; i < end; i += 64) {
        __m512 q[4];
        __m128i index8[4];
        __mmask16 above256[4], nan[4], up[4];
        for (int m = 0; m < 4; m++) {
            q[m] = _mm512_div_ps(_mm512_loadu_ps(x + i + 16 * m), scale);
            q[m] = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q[m], lo, _CMP_LT_OQ), q[m], lo);
            q[m] = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q[m], one, _CMP_GT_OQ), q[m], one);
            __m512i shift;  /* (the key compare's: not needed here) */
            const __m512i index = avx512_bucket(_mm512_castps_si512(q[m]), binades_lo,
                                                binades_hi, width, &shift);
            index8[m] = _mm512_cvtepi32_epi8(index);  /* its low 8 bits; the 9th: */
            above256[m] = _mm512_test_epi32_mask(index, nine);
            nan[m] = _mm512_cmp_ps_mask(q[m], q[m], _CMP_UNORD_Q);
        }
        const __m512i index = _mm512_inserti32x4(
            _mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(index8[0]), index8[1], 1),
                               index8[2], 2), index8[3], 3);
        const __mmask64 bit7 = _mm512_movepi8_mask(index), bit8 = vbmi_join(above256);
        __m512i quarter[4];  /* the lows of buckets 0-127, 128-255, 256-383, 384-511 */
        for (int t = 0; t < 4; t++)
            quarter[t] = _mm512_permutex2var_epi8(_mm512_loadu_si512(lows + 128 * t), index,
                                                  _mm512_loadu_si512(lows + 128 * t + 64));
        const __m512i low = _mm512_mask_blend_epi8(
            bit8, _mm512_mask_blend_epi8(bit7, quarter[0], quarter[1]),
            _mm512_mask_blend_epi8(bit7, quarter[2], quarter[3]));
        __m512 mid[4];
        vbmi_lookup(c->planes + PLANE_MIDS, low, mid);
        for (int m = 0; m < 4; m++) up[m] = _mm512_cmp_ps_mask(mid[m], q[m], _CMP_LT_OQ);
        const __m512i code = _mm512_mask_add_epi8(low, vbmi_join(up), low, ones);
        _mm512_storeu_si512(codes + i, _mm512_maskz_mov_epi8(_knot_mask64(vbmi_join(nan)), code));
    }
    return end + avx512_encode(c, x + end, safe, codes + end, n - end);  /* the last 16s */
}

/* avx512_sample, its levels looked up 64 at a time (the same lanes, in the same order). */
VBMI_FN static int64_t vbmi_sample(const code_t *c, const float *x, const uint8_t *codes,
                                   float amax, int64_t count, double err[8], double norm[8]) {
    const __m512 scale = _mm512_set1_ps(amax);
    __m512d e = _mm512_loadu_pd(err), s = _mm512_loadu_pd(norm);
    int64_t i = 0;
    for (; i + 64 <= count; i += 64) {
        __m512 level[4];
        vbmi_lookup(c->planes + PLANE_LEVELS, _mm512_loadu_si512(codes + i), level);
        for (int q = 0; q < 4; q++)
            avx512_sample16(_mm512_mul_ps(level[q], scale), _mm512_loadu_ps(x + i + 16 * q), &e,
                            &s);
    }
    const int64_t end = avx512_sample_rest(c, x, codes, scale, i, count, &e, &s);
    _mm512_storeu_pd(err, e);
    _mm512_storeu_pd(norm, s);
    return end;
}

static const isa_t AVX512VBMI = {vbmi_update, vbmi_encode, vbmi_sample};
