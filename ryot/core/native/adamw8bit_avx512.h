/* AVX-512 parts of one block of adamw8bit.c (16 float32 lanes; gathers from the code tables).
 * The same operations as the scalar formulas there, lane by lane. */
#define AVX512_FN __attribute__((target("avx512f,avx512bw")))

AVX512_FN static int64_t avx512_update(const job_t *j, const block_t *k, int64_t *p_end,
                                       uint32_t tops[2]) {
    const __m512 mav = _mm512_set1_ps(k->ma), vav = _mm512_set1_ps(k->va);
    const __m512 beta2 = _mm512_set1_ps(j->beta2), w1 = _mm512_set1_ps(j->w1);
    const __m512 w2 = _mm512_set1_ps(j->w2), one_minus_w1 = _mm512_set1_ps(1.0f - j->w1);
    const __m512 decay = _mm512_set1_ps(j->decay), b2 = _mm512_set1_ps(j->bias2_sqrt);
    const __m512 eps = _mm512_set1_ps(j->eps), step = _mm512_set1_ps(j->step);
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    __m512i top_m = _mm512_setzero_si512(), top_v = _mm512_setzero_si512();
    const int low_weight = j->w1 < 0.5f;
    const int64_t end = k->n / 16 * 16, valid_end = k->valid / 16 * 16;
    for (int64_t i = 0; i < end; i += 16) {
        const __m512i m_code = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(k->mc + i)));
        const __m512i v_code = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(k->vc + i)));
        const __m512 mi = _mm512_mul_ps(_mm512_i32gather_ps(m_code, j->s.levels, 4), mav);
        const __m512 vi = _mm512_mul_ps(
            _mm512_mul_ps(_mm512_i32gather_ps(v_code, j->u.levels, 4), vav), beta2);
        const __m512 gi = _mm512_loadu_ps(k->g + i), diff = _mm512_sub_ps(gi, mi);
        const __m512 m = low_weight ? _mm512_add_ps(mi, _mm512_mul_ps(w1, diff))
                                    : _mm512_sub_ps(gi, _mm512_mul_ps(diff, one_minus_w1));
        const __m512 v = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_mul_ps(w2, gi), gi));
        _mm512_storeu_ps(k->m + i, m);
        _mm512_storeu_ps(k->v + i, v);
        top_m = _mm512_max_epu32(top_m, _mm512_and_si512(_mm512_castps_si512(m), magnitude));
        top_v = _mm512_max_epu32(top_v, _mm512_and_si512(_mm512_castps_si512(v), magnitude));
        if (i < valid_end) {
            __m512 p = _mm512_loadu_ps(k->p + i);
            if (j->use_decay) p = _mm512_mul_ps(p, decay);
            const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), b2), eps);
            _mm512_storeu_ps(k->p + i, _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(step, m),
                                                                       denom)));
        }
    }
    tops[0] = (uint32_t)_mm512_reduce_max_epu32(top_m);
    tops[1] = (uint32_t)_mm512_reduce_max_epu32(top_v);
    *p_end = valid_end < end ? valid_end : end;
    return end;
}

AVX512_FN static int64_t avx512_encode(const code_t *c, const float *x, float safe,
                                       uint8_t *codes, int64_t n) {
    const __m512 scale = _mm512_set1_ps(safe), lo = _mm512_set1_ps(c->lo_clamp);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i low_byte = _mm512_set1_epi32(0xFF), low_half = _mm512_set1_epi32(0xFFFF);
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512i mantissa = _mm512_set1_epi32(0x7FFFFF), ones = _mm512_set1_epi32(1);
    const __m512i lowest = _mm512_set1_epi32(LOWEST_EXPONENT), zero = _mm512_setzero_si512();
    const __m512i top = _mm512_set1_epi32(BINADES - 1), width = _mm512_set1_epi32(c->width);
    const __m512i binades_lo = _mm512_loadu_si512(c->binades);
    const __m512i binades_hi = _mm512_loadu_si512(c->binades + 16);
    const int64_t end = n / 16 * 16;
    for (int64_t i = 0; i < end; i += 16) {
        __m512 q = _mm512_div_ps(_mm512_loadu_ps(x + i), scale);
        q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q, lo, _CMP_LT_OQ), q, lo);
        q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q, one, _CMP_GT_OQ), q, one);
        const __m512i bits = _mm512_castps_si512(q);
        const __m512i mag = _mm512_and_si512(bits, magnitude);
        const __m512i binade = _mm512_min_epi32(
            _mm512_max_epi32(_mm512_sub_epi32(_mm512_srli_epi32(mag, 23), lowest), zero), top);
        const __m512i info = _mm512_permutex2var_epi32(binades_lo, binade, binades_hi);
        const __m512i shift = _mm512_srli_epi32(info, 16);
        const __m512i negative = _mm512_srai_epi32(bits, 31);  /* all ones where negative */
        const __m512i mant = _mm512_and_si512(mag, mantissa);
        const __m512i index = _mm512_add_epi32(
            _mm512_add_epi32(_mm512_and_si512(info, low_half), _mm512_srlv_epi32(mant, shift)),
            _mm512_and_si512(negative, width));
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

static const isa_t AVX512 = {avx512_update, avx512_encode};
