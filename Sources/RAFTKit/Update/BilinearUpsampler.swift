/// RAFT-S's 8× upsampling `upflow8` (core/utils/utils.py): `8 · interpolate(flow, (8h, 8w), bilinear,
/// align_corners=True)`. Output pixel i reads input coordinate `i·(h−1)/(8h−1)`; the arithmetic follows
/// PyTorch's CPU kernel (float scale and weights, height weights applied outside the width ones).
public enum BilinearUpsampler {
    /// One sample, no allocation.
    /// - Parameters:
    ///   - flow: `[2, height, width]` in coarse pixels.
    ///   - output: `[2, 8·height, 8·width]` in full-resolution pixels.
    package static func upflow8(flow: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>) {
        let oh = 8 * height, ow = 8 * width
        let scaleY: Float = oh > 1 ? Float(height - 1) / Float(oh - 1) : 0
        let scaleX: Float = ow > 1 ? Float(width - 1) / Float(ow - 1) : 0
        for c in 0..<2 {
            let src = flow + c * height * width
            let dst = output + c * oh * ow
            for oy in 0..<oh {
                let (y0, y1, ly0, ly1) = taps(scaleY * Float(oy), size: height)
                let row0 = src + y0 * width, row1 = src + y1 * width
                let out = dst + oy * ow
                for ox in 0..<ow {
                    let (x0, x1, lx0, lx1) = taps(scaleX * Float(ox), size: width)
                    let t0 = row0[x0] * lx0 + row0[x1] * lx1
                    let t1 = row1[x0] * lx0 + row1[x1] * lx1
                    out[ox] = 8 * (t0 * ly0 + t1 * ly1)
                }
            }
        }
    }

    /// Source indices and weights for a real input coordinate (PyTorch's `guard_index_and_lambda`).
    @inline(__always)
    private static func taps(_ real: Float, size: Int) -> (Int, Int, Float, Float) {
        let i0 = min(Int(real), size - 1)
        let i1 = i0 < size - 1 ? i0 + 1 : i0
        let l1 = min(max(real - Float(i0), 0), 1)
        return (i0, i1, 1 - l1, l1)
    }

    /// A batch (allocating convenience).
    /// - Parameter flow: `[N, 2, h, w]` in coarse pixels.
    /// - Returns: `[N, 2, 8h, 8w]` in full-resolution pixels.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `flow`.
    public static func upflow8(_ flow: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(flow, "flow", [nil, 2, nil, nil])
        let (n, h, w) = (flow.n, flow.h, flow.w)
        var out = Tensor(shape: [n, 2, 8 * h, 8 * w])
        let dst = out.mutablePointer()
        for s in 0..<n {
            upflow8(flow: flow.pointer + s * 2 * h * w, height: h, width: w, output: dst + s * 2 * 64 * h * w)
        }
        return out
    }
}
