/* One (query row, head) of kv_attend.c, compiled once per ISA: the includer defines NAME (the
 * function), TARGET (its target attribute) and LOAD_CODES (16 int8 codes as 16 floats). */
TARGET static void NAME(const attend_t *a, int64_t b, int64_t h, float *s) {
    const int64_t H = a->H, P = a->P, G = a->G, D = a->D, VG = a->VG;
    const int64_t n = a->lengths[b], full = n / G * G, lanes = D / 16;
    const int32_t *table = a->table + b * a->width;
    const float *q = a->q + (b * H + h) * D;
    const float scale = 1.0f / sqrtf((float)D);
    f16v qs[MAX_D / 16], acc[MAX_D / 16];
    for (int64_t t0 = 0; t0 < full; t0 += G) {  /* quantized keys, one group at a time */
        const int64_t page = table[t0 / P], slot = t0 % P;
        const uint16_t *ks = a->k_scales + ((page * H + h) * (P / G) + slot / G) * D;
        for (int64_t c = 0; c < lanes; c++)
            qs[c] = load_f(q + 16 * c) * splat(scale) * load_bf16(ks + 16 * c);
        const int8_t *codes = a->k_codes + ((page * H + h) * P + slot) * D;
        for (int64_t t = 0; t < G; t++) {
            f16v dot = {0};
            for (int64_t c = 0; c < lanes; c++) dot += qs[c] * LOAD_CODES(codes + t * D + 16 * c);
            s[t0 + t] = hsum(dot);
        }
    }
    for (int64_t c = 0; c < lanes; c++) qs[c] = load_f(q + 16 * c) * splat(scale);
    for (int64_t t = full; t < n; t++) {  /* the newest keys, unquantized */
        const float *k = a->residual + ((b * H + h) * G + (t - full)) * D;
        f16v dot = {0};
        for (int64_t c = 0; c < lanes; c++) dot += qs[c] * load_f(k + 16 * c);
        s[t] = hsum(dot);
    }
    float top = -INFINITY;
    for (int64_t t = 0; t < n; t++) top = s[t] > top ? s[t] : top;
    const int64_t padded = (n + 15) / 16 * 16;
    for (int64_t t = n; t < padded; t++) s[t] = top;
    const i16v lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    f16v total = {0};
    for (int64_t t = 0; t < padded; t += 16) {  /* lanes past the last token weigh 0 */
        const f16v e = choose(lane + (int32_t)t < (int32_t)n, exp16(load_f(s + t) - splat(top)),
                              (f16v){0});
        memcpy(s + t, &e, sizeof e);
        total += e;
    }
    for (int64_t c = 0; c < lanes; c++) acc[c] = (f16v){0};
    const int64_t per_token = D / VG, lanes_per_group = VG / 16;
    for (int64_t t0 = 0; t0 < n; t0 += P) {  /* values, one page at a time */
        const int64_t page = table[t0 / P], count = n - t0 < P ? n - t0 : P;
        const int8_t *codes = a->v_codes + (page * H + h) * P * D;
        const uint16_t *vs = a->v_scales + (page * H + h) * P * per_token;
        for (int64_t t = 0; t < count; t++, codes += D, vs += per_token) {
            const float w = s[t0 + t];
            for (int64_t g = 0, c = 0; g < per_token; g++) {
                const f16v weight = splat(w * bf16_to_float(vs[g]));
                for (int64_t l = 0; l < lanes_per_group; l++, c++)
                    acc[c] += weight * LOAD_CODES(codes + 16 * c);
            }
        }
    }
    const f16v inv = splat(1.0f / hsum(total));
    float *out = a->out + (b * H + h) * D;
    for (int64_t c = 0; c < lanes; c++) {
        const f16v o = acc[c] * inv;
        memcpy(out + 16 * c, &o, sizeof o);
    }
}

