/* AVX2 parts of one block of adamw8bit.c (8 float32 lanes; gathers from the code tables).
 * The same operations as the scalar formulas there, lane by lane. */
#define AVX2_FN __attribute__((target("avx2")))

AVX2_FN static uint32_t avx2_reduce_max(__m256i top) {
    uint32_t lanes[8], best = 0;
    _mm256_storeu_si256((__m256i *)lanes, top);
    for (int w = 0; w < 8; w++) best = lanes[w] > best ? lanes[w] : best;
    return best;
}

AVX2_FN static int64_t avx2_update(const job_t *j, const block_t *k, int64_t *p_end,
                                   uint32_t tops[2]) {
    const __m256 mav = _mm256_set1_ps(k->ma), vav = _mm256_set1_ps(k->va);
    const __m256 beta2 = _mm256_set1_ps(j->beta2), w1 = _mm256_set1_ps(j->w1);
    const __m256 w2 = _mm256_set1_ps(j->w2), one_minus_w1 = _mm256_set1_ps(1.0f - j->w1);
    const __m256 decay = _mm256_set1_ps(j->decay), b2 = _mm256_set1_ps(j->bias2_sqrt);
    const __m256 eps = _mm256_set1_ps(j->eps), step = _mm256_set1_ps(j->step);
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
    __m256i top_m = _mm256_setzero_si256(), top_v = _mm256_setzero_si256();
    const int low_weight = j->w1 < 0.5f;
    const int64_t end = k->n / 8 * 8, valid_end = k->valid / 8 * 8;
    for (int64_t i = 0; i < end; i += 8) {
        const __m256i m_code = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(k->mc + i)));
        const __m256i v_code = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(k->vc + i)));
        const __m256 mi = _mm256_mul_ps(_mm256_i32gather_ps(j->s.levels, m_code, 4), mav);
        const __m256 vi = _mm256_mul_ps(
            _mm256_mul_ps(_mm256_i32gather_ps(j->u.levels, v_code, 4), vav), beta2);
        const __m256 gi = _mm256_loadu_ps(k->g + i), diff = _mm256_sub_ps(gi, mi);
        const __m256 m = low_weight ? _mm256_add_ps(mi, _mm256_mul_ps(w1, diff))
                                    : _mm256_sub_ps(gi, _mm256_mul_ps(diff, one_minus_w1));
        const __m256 v = _mm256_add_ps(vi, _mm256_mul_ps(_mm256_mul_ps(w2, gi), gi));
        _mm256_storeu_ps(k->m + i, m);
        _mm256_storeu_ps(k->v + i, v);
        top_m = _mm256_max_epu32(top_m, _mm256_and_si256(_mm256_castps_si256(m), magnitude));
        top_v = _mm256_max_epu32(top_v, _mm256_and_si256(_mm256_castps_si256(v), magnitude));
        if (i < valid_end) {
            __m256 p = _mm256_loadu_ps(k->p + i);
            if (j->use_decay) p = _mm256_mul_ps(p, decay);
            const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(v), b2), eps);
            _mm256_storeu_ps(k->p + i, _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(step, m),
                                                                       denom)));
        }
    }
    tops[0] = avx2_reduce_max(top_m);
    tops[1] = avx2_reduce_max(top_v);
    *p_end = valid_end < end ? valid_end : end;
    return end;
}

AVX2_FN static int64_t avx2_encode(const code_t *c, const float *x, float safe, uint8_t *codes,
                                   int64_t n) {
    const __m256 scale = _mm256_set1_ps(safe), lo = _mm256_set1_ps(c->lo_clamp);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256i low_byte = _mm256_set1_epi32(0xFF), low_half = _mm256_set1_epi32(0xFFFF);
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i mantissa = _mm256_set1_epi32(0x7FFFFF), ones = _mm256_set1_epi32(1);
    const __m256i lowest = _mm256_set1_epi32(LOWEST_EXPONENT), zero = _mm256_setzero_si256();
    const __m256i top = _mm256_set1_epi32(BINADES - 1), width = _mm256_set1_epi32(c->width);
    const int64_t end = n / 8 * 8;
    for (int64_t i = 0; i < end; i += 8) {
        __m256 q = _mm256_div_ps(_mm256_loadu_ps(x + i), scale);
        q = _mm256_blendv_ps(q, lo, _mm256_cmp_ps(q, lo, _CMP_LT_OQ));
        q = _mm256_blendv_ps(q, one, _mm256_cmp_ps(q, one, _CMP_GT_OQ));
        const __m256i bits = _mm256_castps_si256(q);
        const __m256i mag = _mm256_and_si256(bits, magnitude);
        const __m256i binade = _mm256_min_epi32(
            _mm256_max_epi32(_mm256_sub_epi32(_mm256_srli_epi32(mag, 23), lowest), zero), top);
        const __m256i info = _mm256_i32gather_epi32((const int *)c->binades, binade, 4);
        const __m256i shift = _mm256_srli_epi32(info, 16);
        const __m256i negative = _mm256_srai_epi32(bits, 31);
        const __m256i mant = _mm256_and_si256(mag, mantissa);
        const __m256i index = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_and_si256(info, low_half), _mm256_srlv_epi32(mant, shift)),
            _mm256_and_si256(negative, width));
        const __m256i below = _mm256_sub_epi32(_mm256_sllv_epi32(ones, shift), ones);
        const __m256i rest = _mm256_xor_si256(_mm256_and_si256(mant, below),
                                              _mm256_and_si256(negative, below));
        const __m256i entry = _mm256_i32gather_epi32((const int *)c->table, index, 4);
        /* see avx512_encode; keys and rests are below 2**23, so a signed compare serves */
        const __m256i up = _mm256_cmpgt_epi32(rest, _mm256_srli_epi32(entry, 8));
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(q, q, _CMP_UNORD_Q));
        const __m256i code = _mm256_andnot_si256(  /* up is -1 where the code is one more */
            nan, _mm256_sub_epi32(_mm256_and_si256(entry, low_byte), up));
        const __m256i words = _mm256_packus_epi32(code, code);
        const __m256i bytes = _mm256_packus_epi16(words, words);
        const int first = _mm_cvtsi128_si32(_mm256_castsi256_si128(bytes));
        const int second = _mm_cvtsi128_si32(_mm256_extracti128_si256(bytes, 1));
        memcpy(codes + i, &first, 4);
        memcpy(codes + i + 4, &second, 4);
    }
    return end;
}

/* sample_scalar's lanes: values i..i+3 of 8 go to double lanes 0-3, i+4..i+7 to lanes 4-7. */
AVX2_FN static int64_t avx2_sample(const code_t *c, const float *x, const uint8_t *codes,
                                   float amax, int64_t count, double err[8], double norm[8]) {
    const __m256 scale = _mm256_set1_ps(amax);
    __m256d e[2] = {_mm256_loadu_pd(err), _mm256_loadu_pd(err + 4)};
    __m256d s[2] = {_mm256_loadu_pd(norm), _mm256_loadu_pd(norm + 4)};
    const int64_t end = count / 8 * 8;
    for (int64_t i = 0; i < end; i += 8) {
        const __m256i code = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + i)));
        const __m256 b = _mm256_mul_ps(_mm256_i32gather_ps(c->levels, code, 4), scale);
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m128 halves[4] = {_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1),
                                  _mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)};
        for (int h = 0; h < 2; h++) {
            const __m256d bd = _mm256_cvtps_pd(halves[h]), xd = _mm256_cvtps_pd(halves[2 + h]);
            const __m256d d = _mm256_sub_pd(xd, bd);
            e[h] = _mm256_add_pd(e[h], _mm256_mul_pd(d, d));
            s[h] = _mm256_add_pd(s[h], _mm256_mul_pd(xd, xd));
        }
    }
    _mm256_storeu_pd(err, e[0]);
    _mm256_storeu_pd(err + 4, e[1]);
    _mm256_storeu_pd(norm, s[0]);
    _mm256_storeu_pd(norm + 4, s[1]);
    return end;
}

static const isa_t AVX2 = {avx2_update, avx2_encode, avx2_sample};
