/* AVX-512 parts of one block of adamw8bit.c (16 float32 lanes; gathers from the code tables).
 * The same operations as the scalar formulas there, lane by lane. */
#define AVX512_FN __attribute__((target("avx512f,avx512bw")))

/* What every 16 values of one block's update share: the block's scalars as vectors and the
 * running largest |m| and |v| (as bits). */
typedef struct {
    __m512 mav, vav, beta2, w1, w2, one_minus_w1, decay, b2, eps, step;
    __m512i magnitude, top_m, top_v;
    int low_weight, use_decay;
    int64_t valid_end;  /* the parameter's last whole 16 of the block */
} avx512_update_t;

AVX512_FN static inline avx512_update_t avx512_update_start(const job_t *j, const block_t *k) {
    return (avx512_update_t){
        _mm512_set1_ps(k->ma), _mm512_set1_ps(k->va), _mm512_set1_ps(j->beta2),
        _mm512_set1_ps(j->w1), _mm512_set1_ps(j->w2), _mm512_set1_ps(1.0f - j->w1),
        _mm512_set1_ps(j->decay), _mm512_set1_ps(j->bias2_sqrt), _mm512_set1_ps(j->eps),
        _mm512_set1_ps(j->step), _mm512_set1_epi32(0x7FFFFFFF), _mm512_setzero_si512(),
        _mm512_setzero_si512(), j->w1 < 0.5f, j->use_decay, k->valid / 16 * 16};
}

/* Values i..i+15 of the block from their codes' levels (before the block's scales). */
AVX512_FN static inline __attribute__((always_inline)) void avx512_update16(
        avx512_update_t *u, const block_t *k, int64_t i, __m512 m_level, __m512 v_level) {
    const __m512 mi = _mm512_mul_ps(m_level, u->mav);
    const __m512 vi = _mm512_mul_ps(_mm512_mul_ps(v_level, u->vav), u->beta2);
    const __m512 gi = _mm512_loadu_ps(k->g + i), diff = _mm512_sub_ps(gi, mi);
    const __m512 m = u->low_weight ? _mm512_add_ps(mi, _mm512_mul_ps(u->w1, diff))
                                   : _mm512_sub_ps(gi, _mm512_mul_ps(diff, u->one_minus_w1));
    const __m512 v = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_mul_ps(u->w2, gi), gi));
    _mm512_storeu_ps(k->m + i, m);
    _mm512_storeu_ps(k->v + i, v);
    u->top_m = _mm512_max_epu32(u->top_m, _mm512_and_si512(_mm512_castps_si512(m), u->magnitude));
    u->top_v = _mm512_max_epu32(u->top_v, _mm512_and_si512(_mm512_castps_si512(v), u->magnitude));
    if (i < u->valid_end) {
        __m512 p = _mm512_loadu_ps(k->p + i);
        if (u->use_decay) p = _mm512_mul_ps(p, u->decay);
        const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), u->b2), u->eps);
        _mm512_storeu_ps(k->p + i, _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(u->step, m),
                                                                   denom)));
    }
}

/* The 16s of [from, n / 16 * 16), their levels gathered; then the tops. Returns the end. */
AVX512_FN static inline __attribute__((always_inline)) int64_t avx512_update_rest(
        const job_t *j, const block_t *k, avx512_update_t *u, int64_t from, int64_t *p_end,
        uint32_t tops[2]) {
    const int64_t end = k->n / 16 * 16;
    for (int64_t i = from; i < end; i += 16) {
        const __m512i m_code = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(k->mc + i)));
        const __m512i v_code = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(k->vc + i)));
        avx512_update16(u, k, i, _mm512_i32gather_ps(m_code, j->s.levels, 4),
                        _mm512_i32gather_ps(v_code, j->u.levels, 4));
    }
    tops[0] = (uint32_t)_mm512_reduce_max_epu32(u->top_m);
    tops[1] = (uint32_t)_mm512_reduce_max_epu32(u->top_v);
    *p_end = u->valid_end < end ? u->valid_end : end;
    return end;
}

AVX512_FN static int64_t avx512_update(const job_t *j, const block_t *k, int64_t *p_end,
                                       uint32_t tops[2]) {
    avx512_update_t u = avx512_update_start(j, k);
    return avx512_update_rest(j, k, &u, 0, p_end, tops);
}

/* The vector index of each value's bucket in the encode table (see code_t), for values already
 * normalized and clamped; `width`: where the negative values' buckets start (0: none); *shift:
 * the mantissa bits below the bucket's, per value. */
AVX512_FN static inline __attribute__((always_inline)) __m512i avx512_bucket(
        __m512i bits, __m512i binades_lo, __m512i binades_hi, __m512i width, __m512i *shift) {
    const __m512i mag = _mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF));
    const __m512i binade = _mm512_min_epi32(
        _mm512_max_epi32(_mm512_sub_epi32(_mm512_srli_epi32(mag, 23),
                                          _mm512_set1_epi32(LOWEST_EXPONENT)),
                         _mm512_setzero_si512()), _mm512_set1_epi32(BINADES - 1));
    const __m512i info = _mm512_permutex2var_epi32(binades_lo, binade, binades_hi);
    const __m512i mant = _mm512_and_si512(mag, _mm512_set1_epi32(0x7FFFFF));
    *shift = _mm512_srli_epi32(info, 16);
    return _mm512_add_epi32(
        _mm512_add_epi32(_mm512_and_si512(info, _mm512_set1_epi32(0xFFFF)),
                         _mm512_srlv_epi32(mant, *shift)),
        _mm512_and_si512(_mm512_srai_epi32(bits, 31), width));
}

AVX512_FN static int64_t avx512_encode(const code_t *c, const float *x, float safe,
                                       uint8_t *codes, int64_t n) {
    const __m512 scale = _mm512_set1_ps(safe), lo = _mm512_set1_ps(c->lo_clamp);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i low_byte = _mm512_set1_epi32(0xFF), mantissa = _mm512_set1_epi32(0x7FFFFF);
    const __m512i ones = _mm512_set1_epi32(1), zero = _mm512_setzero_si512();
    const __m512i width = _mm512_set1_epi32(c->width);
    const __m512i binades_lo = _mm512_loadu_si512(c->binades);
    const __m512i binades_hi = _mm512_loadu_si512(c->binades + 16);
    const int64_t end = n / 16 * 16;
    for (int64_t i = 0; i < end; i += 16) {
        __m512 q = _mm512_div_ps(_mm512_loadu_ps(x + i), scale);
        q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q, lo, _CMP_LT_OQ), q, lo);
        q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q, one, _CMP_GT_OQ), q, one);
        const __m512i bits = _mm512_castps_si512(q);
        __m512i shift;
        const __m512i index = avx512_bucket(bits, binades_lo, binades_hi, width, &shift);
        const __m512i negative = _mm512_srai_epi32(bits, 31);  /* all ones where negative */
        const __m512i mant = _mm512_and_si512(bits, mantissa);
        const __m512i below = _mm512_sub_epi32(_mm512_sllv_epi32(ones, shift), ones);
        /* the mantissa bits below the bucket's, in value order */
        const __m512i rest = _mm512_xor_si512(_mm512_and_si512(mant, below),
                                              _mm512_and_si512(negative, below));
        const __m512i entry = _mm512_i32gather_epi32(index, c->table, 4);
        const __mmask16 up = _mm512_cmpgt_epu32_mask(rest, _mm512_srli_epi32(entry, 8));
        const __m512i low = _mm512_and_si512(entry, low_byte);
        __m512i code = _mm512_mask_add_epi32(low, up, low, ones);
        code = _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(q, q, _CMP_UNORD_Q), code, zero);
        _mm_storeu_si128((__m128i *)(codes + i), _mm512_cvtepi32_epi8(code));
    }
    return end;
}

/* Sixteen values' squared errors and squares into sample_scalar's double lanes (value i of 16
 * to lane i % 8, the low half before the high). */
AVX512_FN static inline __attribute__((always_inline)) void avx512_sample16(__m512 back, __m512 x,
                                                                           __m512d *e, __m512d *s) {
    const __m256 halves[4] = {
        _mm512_castps512_ps256(back),
        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(back), 1)),
        _mm512_castps512_ps256(x), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))};
    for (int h = 0; h < 2; h++) {
        const __m512d bd = _mm512_cvtps_pd(halves[h]), xd = _mm512_cvtps_pd(halves[2 + h]);
        const __m512d d = _mm512_sub_pd(xd, bd);
        *e = _mm512_add_pd(*e, _mm512_mul_pd(d, d));
        *s = _mm512_add_pd(*s, _mm512_mul_pd(xd, xd));
    }
}

/* The 16s of values [from, count / 16 * 16), their levels gathered; returns the end. */
AVX512_FN static inline __attribute__((always_inline)) int64_t avx512_sample_rest(
        const code_t *c, const float *x, const uint8_t *codes, __m512 scale, int64_t from,
        int64_t count, __m512d *e, __m512d *s) {
    const int64_t end = count / 16 * 16;
    for (int64_t i = from; i < end; i += 16) {
        const __m512i code = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + i)));
        avx512_sample16(_mm512_mul_ps(_mm512_i32gather_ps(code, c->levels, 4), scale),
                        _mm512_loadu_ps(x + i), e, s);
    }
    return end;
}

AVX512_FN static int64_t avx512_sample(const code_t *c, const float *x, const uint8_t *codes,
                                       float amax, int64_t count, double err[8], double norm[8]) {
    __m512d e = _mm512_loadu_pd(err), s = _mm512_loadu_pd(norm);
    const int64_t end = avx512_sample_rest(c, x, codes, _mm512_set1_ps(amax), 0, count, &e, &s);
    _mm512_storeu_pd(err, e);
    _mm512_storeu_pd(norm, s);
    return end;
}

static const isa_t AVX512 = {avx512_update, avx512_encode, avx512_sample};
