/// RAFT's learned 8× upsampling (core/raft.py, `RAFT.upsample_flow`): every full-resolution pixel is a convex
/// combination of the 3×3 coarse neighbourhood of `8·flow`.
///
/// Mask channel `64·k + 8·a + b` is the logit of neighbour `k = 3·ky + kx` (coarse pixel `(y+ky−1, x+kx−1)`)
/// for sub-pixel `(a, b)`; a softmax over the 9 neighbours gives the weights, and
/// `out[c, 8y+a, 8x+b] = Σ_k softmax_k · 8·flow[c, y+ky−1, x+kx−1]`. Neighbours outside the grid are zeros
/// that still take part in the softmax (PyTorch's `F.unfold` with zero padding), so border pixels are pulled
/// towards 0 exactly as in the official code.
public enum ConvexUpsampler {
    /// One sample, no allocation.
    /// - Parameters:
    ///   - flow: `[2, height, width]` in coarse pixels.
    ///   - mask: `[576, height, width]` logits, already scaled by 0.25 (the ``MaskHead`` output).
    ///   - output: `[2, 8·height, 8·width]` in full-resolution pixels.
    package static func upsample(flow: UnsafePointer<Float>, mask: UnsafePointer<Float>, height: Int, width: Int,
                                 output: UnsafeMutablePointer<Float>) {
        let h = height, w = width, pixels = h * w
        let outWidth = 8 * w, outPlane = 64 * pixels
        let kStride = 64 * pixels
        for y in 0..<h {
            // Rows y−1, y, y+1; a row outside the grid is read from row y and weighted by 0 (the zero
            // padding), which keeps the inner loop free of branches. The weight 8 scales the flow.
            let rows = (max(y - 1, 0) * w, y * w, min(y + 1, h - 1) * w)
            let rowWeight: (Float, Float, Float) = (y > 0 ? 8 : 0, 8, y < h - 1 ? 8 : 0)
            let u = (flow + rows.0, flow + rows.1, flow + rows.2)
            let v = (u.0 + pixels, u.1 + pixels, u.2 + pixels)
            for a in 0..<8 {
                for b in 0..<8 {
                    let logits = mask + (8 * a + b) * pixels + y * w
                    let outU = output + (8 * y + a) * outWidth + b, outV = outU + outPlane
                    // Columns x−1 and x+1 exist for 1 ≤ x ≤ w−2.
                    if w >= 3 {
                        for x in 1..<(w - 1) {
                            let r = combine(logits + x, kStride, u, v, x - 1, x, x + 1, rowWeight, (1, 1, 1))
                            outU[8 * x] = r.u
                            outV[8 * x] = r.v
                        }
                    }
                    // The border columns: a missing neighbour column is read from x and weighted by 0.
                    var x = 0
                    while x < w {
                        let r = combine(logits + x, kStride, u, v, max(x - 1, 0), x, min(x + 1, w - 1), rowWeight,
                                        (x > 0 ? 1 : 0, 1, x < w - 1 ? 1 : 0))
                        outU[8 * x] = r.u
                        outV[8 * x] = r.v
                        x += max(w - 1, 1)
                    }
                }
            }
        }
    }

    typealias Rows = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)

    /// The softmax-weighted sums `Σ_k e_k·w_k·f_k / Σ_k e_k` for u and v, with `e_k = exp(l_k − max l)`: the 9
    /// logits are `logits[k·stride]`, neighbour `(ky, kx)` is `rows.ky[column kx]`, weighted by
    /// `rowWeight.ky · colWeight.kx` (8 inside the grid, 0 outside).
    @inline(__always)
    private static func combine(_ logits: UnsafePointer<Float>, _ stride: Int, _ u: Rows, _ v: Rows,
                                _ left: Int, _ centre: Int, _ right: Int,
                                _ rowWeight: (Float, Float, Float), _ colWeight: (Float, Float, Float)) -> (u: Float, v: Float) {
        let l0 = logits[0], l1 = logits[stride], l2 = logits[2 * stride]
        let l3 = logits[3 * stride], l4 = logits[4 * stride], l5 = logits[5 * stride]
        let l6 = logits[6 * stride], l7 = logits[7 * stride], l8 = logits[8 * stride]
        let m = max(max(max(l0, l1), max(l2, l3)), max(max(l4, l5), max(max(l6, l7), l8)))
        let e0 = exp(l0 - m), e1 = exp(l1 - m), e2 = exp(l2 - m)
        let e3 = exp(l3 - m), e4 = exp(l4 - m), e5 = exp(l5 - m)
        let e6 = exp(l6 - m), e7 = exp(l7 - m), e8 = exp(l8 - m)
        let sum = ((e0 + e1) + (e2 + e3)) + ((e4 + e5) + (e6 + e7)) + e8
        // Per-neighbour weights (zero outside the grid).
        let c0 = colWeight.0, c2 = colWeight.2
        let w0 = rowWeight.0 * e0 * c0, w1 = rowWeight.0 * e1, w2 = rowWeight.0 * e2 * c2
        let w3 = rowWeight.1 * e3 * c0, w4 = rowWeight.1 * e4, w5 = rowWeight.1 * e5 * c2
        let w6 = rowWeight.2 * e6 * c0, w7 = rowWeight.2 * e7, w8 = rowWeight.2 * e8 * c2
        func dot(_ r: Rows) -> Float {
            (w0 * r.0[left] + w1 * r.0[centre] + w2 * r.0[right])
                + (w3 * r.1[left] + w4 * r.1[centre] + w5 * r.1[right])
                + (w6 * r.2[left] + w7 * r.2[centre] + w8 * r.2[right])
        }
        let inv = 1 / sum
        return (dot(u) * inv, dot(v) * inv)
    }

    /// `exp(x)` for x ≤ 0 in plain arithmetic (vectorisable): Cody–Waite reduction with the 1.5·2²³ rounding
    /// trick and Cephes' degree-5 `expf` polynomial; relative error about 2e-7. Arguments below −87 give
    /// exp(−87) ≈ 1.6e-38 instead of smaller values (irrelevant next to the softmax's maximum term, 1).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let x = max(x, -87)
        let t = x * 1.44269504088896341 + 12582912.0
        let n = t - 12582912.0
        var r = x - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = p * (r * r) + r + 1
        return e * Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    }

    /// A batch (allocating convenience).
    /// - Parameters:
    ///   - flow: `[N, 2, h, w]` in coarse pixels.
    ///   - mask: `[N, 576, h, w]` scaled logits.
    /// - Returns: `[N, 2, 8h, 8w]` in full-resolution pixels.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `flow` or `mask`.
    public static func upsample(flow: Tensor, mask: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(flow, "flow", [nil, 2, nil, nil])
        try Tensor.check(mask, "mask", [flow.n, MaskHead.outputChannels, flow.h, flow.w])
        let (n, h, w) = (flow.n, flow.h, flow.w)
        var out = Tensor(shape: [n, 2, 8 * h, 8 * w])
        let dst = out.mutablePointer()
        for s in 0..<n {
            upsample(flow: flow.pointer + s * 2 * h * w, mask: mask.pointer + s * 576 * h * w, height: h, width: w,
                     output: dst + s * 2 * 64 * h * w)
        }
        return out
    }
}
