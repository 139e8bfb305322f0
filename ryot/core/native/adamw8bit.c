/* One fused AdamW step over 8-bit block-wise states (ryot.optim8bit, the dynamic code of
 * ryot.dynamic_code). The plain reference is the eager torch path in ryot/optim8bit.py; this
 * loop does the same float32 operations in the same order, one block at a time, so the moments
 * never exist in float32 outside a block-sized buffer and every value is read and written once.
 *
 * Per block b (of `block` values, belonging to parameter block_param[b] from block_offset[b]):
 *   decode   m = levels_s[m_code] * m_absmax[b],  v = levels_u[v_code] * v_absmax[b]
 *   update   m = lerp(m, g, w1);  v = v*beta2 + w2*g*g  (w1 = 1-beta1, w2 = 1-beta2)
 *            p = p*decay;  p = p + step*m / (sqrt(v)/bias2_sqrt + eps)    (torch AdamW's order:
 *            ATen's lerp, addcmul and addcdiv formulas; the caller computes the scalars)
 *   encode   absmax = max|x|; n = x / absmax (clamped); code = low[n>>16] + (n > above[n>>16])
 * Values past the end of a parameter (block padding) have gradient 0 and update no parameter.
 * The first sample_values values of every parameter add their squared quantization error and
 * squared values to sample[4*p .. 4*p+3] of their parameter p (exp_avg error, exp_avg norm,
 * exp_avg_sq error, exp_avg_sq norm).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const float *restrict levels;
    const uint8_t *restrict low;
    const float *restrict above;
    float lo_clamp;
} code_t;

/* max |x| over the block: the bits of |x| order like the values (no NaN here), and an integer
 * max reduction vectorizes where a float one would need -ffast-math. */
static float block_absmax(const float *restrict x, int64_t block) {
    uint32_t top = 0;
    for (int64_t i = 0; i < block; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        bits &= 0x7FFFFFFFu;
        top = bits > top ? bits : top;
    }
    float amax;
    memcpy(&amax, &top, sizeof amax);
    return amax;
}

/* Encode x[0..block) into codes/absmax; add the squared error and squared values of the first
 * `count` values to err[0], err[1]. */
static void encode_block(const code_t *c, const float *restrict x, int64_t block,
                         uint8_t *restrict codes, float *restrict absmax, int64_t count,
                         double *err) {
    const float amax = block_absmax(x, block);
    *absmax = amax;
    const float safe = amax > 0.0f ? amax : 1.0f;
    for (int64_t i = 0; i < block; i++) {
        float n = x[i] / safe;
        n = n < c->lo_clamp ? c->lo_clamp : (n > 1.0f ? 1.0f : n);
        uint32_t bits;
        memcpy(&bits, &n, sizeof bits);
        uint32_t bucket = bits >> 16;
        codes[i] = (uint8_t)(c->low[bucket] + (n > c->above[bucket]));
    }
    for (int64_t i = 0; i < count; i++) {
        double back = (double)(c->levels[codes[i]] * amax);
        err[0] += (x[i] - back) * (x[i] - back);
        err[1] += (double)x[i] * x[i];
    }
}

int ryot_adamw8bit_step(int64_t nblocks, int64_t block, const int32_t *block_param,
                        const int64_t *block_offset, float *const *params, const float *const *grads,
                        const int64_t *sizes, uint8_t *m_codes, float *m_absmax, uint8_t *v_codes,
                        float *v_absmax, const float *levels_s, const uint8_t *low_s,
                        const float *above_s, const float *levels_u, const uint8_t *low_u,
                        const float *above_u, float w1, float beta2, float w2, float step,
                        float decay, int use_decay, float bias2_sqrt, float eps,
                        int64_t sample_values, double *sample) {
    const code_t signed_code = {levels_s, low_s, above_s, -1.0f};
    const code_t unsigned_code = {levels_u, low_u, above_u, 0.0f};
    float *m = malloc(sizeof(float) * block), *v = malloc(sizeof(float) * block);
    float *g = malloc(sizeof(float) * block);
    if (!m || !v || !g) {
        free(m);
        free(v);
        free(g);
        return 1;
    }
    for (int64_t b = 0; b < nblocks; b++) {
        const int32_t pi = block_param[b];
        const int64_t off = block_offset[b], size = sizes[pi];
        const int64_t valid = size - off < block ? size - off : block;
        float *restrict p = params[pi] + off;
        uint8_t *restrict mc = m_codes + b * block, *restrict vc = v_codes + b * block;
        const float ma = m_absmax[b], va = v_absmax[b];
        memcpy(g, grads[pi] + off, sizeof(float) * valid);
        memset(g + valid, 0, sizeof(float) * (block - valid));  /* padding: gradient 0 */
        for (int64_t i = 0; i < block; i++) {
            float mi = levels_s[mc[i]] * ma, vi = levels_u[vc[i]] * va, gi = g[i];
            m[i] = w1 < 0.5f ? mi + w1 * (gi - mi) : gi - (gi - mi) * (1.0f - w1);
            vi = vi * beta2;
            v[i] = vi + w2 * gi * gi;
        }
        if (use_decay)
            for (int64_t i = 0; i < valid; i++) p[i] = p[i] * decay;
        for (int64_t i = 0; i < valid; i++) {
            float denom = sqrtf(v[i]) / bias2_sqrt + eps;
            p[i] = p[i] + step * m[i] / denom;
        }
        const int64_t sampled = sample_values < size ? sample_values : size;
        int64_t count = sampled - off;
        count = count < 0 ? 0 : (count > block ? block : count);
        double err[4] = {0.0, 0.0, 0.0, 0.0};
        encode_block(&signed_code, m, block, mc, &m_absmax[b], count, err);
        encode_block(&unsigned_code, v, block, vc, &v_absmax[b], count, err + 2);
        if (count > 0)
            for (int k = 0; k < 4; k++) sample[4 * (int64_t)pi + k] += err[k];
    }
    free(m);
    free(v);
    free(g);
    return 0;
}
