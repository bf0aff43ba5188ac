// The bf16 GEMM driver, written once over a small vector vocabulary and compiled twice by bf16_gemm.c: with AVX-512
// intrinsics, and with their portable emulation. Needs: PREFIX(name), TARGET, vf (16 floats), vw (32 bf16 words),
// mask16, and the V_* operations below.
//
// BLIS layout: B is packed in blocks of KC × NC, A in blocks of MC × KC, and an MR × NR micro-kernel accumulates
// `vdpbf16ps` products (each multiplies a pair of consecutive k and adds both products to a float32 lane) in
// MR × NR/16 = 24 vector registers. Packed layouts (bf16 as uint16_t, k taken in pairs):
//   A panel (MR rows):    [pairs][MR] uint32, the pair (a[i][2p], a[i][2p+1]); broadcast one row at a time;
//   B panel (NR columns): [pairs][NR][2] uint16, (b[2p][j], b[2p+1][j]) side by side; NR/16 vectors per pair.
// Rows, columns and k beyond the matrix are packed as zeros, so the micro-kernel always runs a full tile and only
// its final update of C is masked.

// 32 consecutive floats (`count` of them valid, the rest zero) → 16 bf16 pairs, in order.
TARGET static inline vw PREFIX(pairs_from_floats)(const float *x, long count) {
    vf lo = V_LOADZ(lanes(count), x), hi = V_LOADZ(lanes(count - 16), x + 16);
    return V_CVT2(hi, lo);
}

// A rows [0, mc) × k [0, kc) → panels of MR rows, ⌈kc/2⌉ pairs each.
TARGET static void PREFIX(pack_a)(const float *a, long lda, long mc, long kc, uint16_t *dst) {
    const long pairs = (kc + 1) / 2;
    uint32_t *out = (uint32_t *)dst;
    uint32_t row[MR][16] __attribute__((aligned(64)));
    for (long i0 = 0; i0 < mc; i0 += MR) {
        for (long p0 = 0; p0 < pairs; p0 += 16) {
            const long np = pairs - p0 < 16 ? pairs - p0 : 16;
            for (long i = 0; i < MR; i++) {
                vw v = V_ZERO_W();
                if (i0 + i < mc) v = PREFIX(pairs_from_floats)(a + (i0 + i) * lda + 2 * p0, kc - 2 * p0);
                V_STORE_W(row[i], v);
            }
            for (long p = 0; p < np; p++)
                for (long i = 0; i < MR; i++) out[(p0 + p) * MR + i] = row[i][p];
        }
        out += pairs * MR;
    }
}

// B rows [0, kc) × columns [0, nc) of row-major `b` → panels of NR columns.
TARGET static void PREFIX(pack_b)(const float *b, long ldb, long kc, long nc, uint16_t *dst) {
    const long pairs = (kc + 1) / 2;
    for (long j0 = 0; j0 < nc; j0 += NR) {
        for (long p = 0; p < pairs; p++) {
            const float *r0 = b + 2 * p * ldb + j0, *r1 = r0 + ldb;
            const int second = 2 * p + 1 < kc;
            for (long g = 0; g < NR / 16; g++) {
                const mask16 m = lanes(nc - j0 - 16 * g);
                vf x0 = V_LOADZ(m, r0 + 16 * g);
                vf x1 = second ? V_LOADZ(m, r1 + 16 * g) : V_LOADZ(0, r1);
                V_STORE_W(dst + (p * NR + 16 * g) * 2, V_INTERLEAVE(V_CVT2(x1, x0)));
            }
        }
        dst += pairs * NR * 2;
    }
}

// B stored [N, K] (element (k, j) at b[j·ldb + k]) → the same panels; each column's pairs are contiguous.
TARGET static void PREFIX(pack_b_transposed)(const float *b, long ldb, long kc, long nc, uint16_t *dst) {
    const long pairs = (kc + 1) / 2;
    uint32_t *out = (uint32_t *)dst;
    uint32_t column[16] __attribute__((aligned(64)));
    for (long j0 = 0; j0 < nc; j0 += NR) {
        for (long j = 0; j < NR; j++) {
            for (long p0 = 0; p0 < pairs; p0 += 16) {
                const long np = pairs - p0 < 16 ? pairs - p0 : 16;
                vw v = V_ZERO_W();
                if (j0 + j < nc) v = PREFIX(pairs_from_floats)(b + (j0 + j) * ldb + 2 * p0, kc - 2 * p0);
                V_STORE_W(column, v);
                for (long p = 0; p < np; p++) out[(p0 + p) * NR + j] = column[p];
            }
        }
        out += pairs * NR;
    }
}

// C[0..<mr, 0..<nr] += A panel · B panel over `pairs` k-pairs.
TARGET static void PREFIX(micro_kernel)(long pairs, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                                        long mr, long nr) {
    vf acc[MR][3];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 3; j++) acc[i][j] = V_ZERO_F();
    const uint32_t *ap = (const uint32_t *)a;
    for (long p = 0; p < pairs; p++) {
        const vw b0 = V_LOAD_W(b + p * 2 * NR), b1 = V_LOAD_W(b + p * 2 * NR + 32), b2 = V_LOAD_W(b + p * 2 * NR + 64);
        for (int i = 0; i < MR; i++) {
            const vw ai = V_BROADCAST_PAIR(ap[p * MR + i]);
            acc[i][0] = V_DOT(acc[i][0], ai, b0);
            acc[i][1] = V_DOT(acc[i][1], ai, b1);
            acc[i][2] = V_DOT(acc[i][2], ai, b2);
        }
    }
    for (int i = 0; i < MR && i < mr; i++)
        for (int j = 0; j < 3; j++) {
            const mask16 m = lanes(nr - 16 * j);
            if (!m) break;
            float *cij = c + i * ldc + 16 * j;
            V_STOREM(cij, m, V_ADD(V_LOADZ(m, cij), acc[i][j]));
        }
}

TARGET static int PREFIX(gemm)(int transpose_b, long m, long n, long k, const float *a, long lda,
                               const float *b, long ldb, float beta, float *c, long ldc) {
    if (ensure_buffers() != 0) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (beta != 1.0f) scale_c(m, n, beta, c, ldc);
    for (long jc = 0; jc < n; jc += NC) {
        const long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += KC) {
            const long kc = k - pc < KC ? k - pc : KC, pairs = (kc + 1) / 2;
            if (transpose_b) PREFIX(pack_b_transposed)(b + jc * ldb + pc, ldb, kc, nc, packed_b);
            else PREFIX(pack_b)(b + pc * ldb + jc, ldb, kc, nc, packed_b);
            for (long ic = 0; ic < m; ic += MC) {
                const long mc = m - ic < MC ? m - ic : MC;
                PREFIX(pack_a)(a + ic * lda + pc, lda, mc, kc, packed_a);
                for (long jr = 0; jr < nc; jr += NR) {
                    const uint16_t *bp = packed_b + jr * pairs * 2;
                    for (long ir = 0; ir < mc; ir += MR)
                        PREFIX(micro_kernel)(pairs, packed_a + ir * pairs * 2, bp, c + (ic + ir) * ldc + jc + jr,
                                             ldc, mc - ir, nc - jr);
                }
            }
        }
    }
    return 0;
}
