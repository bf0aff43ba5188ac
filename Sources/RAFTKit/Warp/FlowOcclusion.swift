/// Occlusion from the forward–backward consistency of two flows (Sundaram, Brox & Keutzer, ECCV 2010, as UnFlow
/// uses it, Meister et al., AAAI 2018).
///
/// A pixel x of frame 1 is occluded in frame 2 when its forward flow F(x) and the backward flow at the point it
/// moves to, B(x + F(x)), do not cancel:
///
///     |F + B(x+F)|² > α₁ (|F|² + |B(x+F)|²) + α₂
///
/// B(x + F) is sampled bilinearly with ``FlowWarp``'s sampling (grid_sample, `align_corners=True`, zeros outside),
/// so a pixel that moves out of frame 2 compares F with 0 and is occluded once |F|² > α₂ / 0.99. A pixel with a
/// non-finite flow is occluded.
public enum FlowOcclusion {
    /// UnFlow's α₁, the tolerance relative to the squared flow magnitudes.
    public static let defaultAlpha1: Float = 0.01
    /// UnFlow's α₂, the absolute tolerance in px².
    public static let defaultAlpha2: Float = 0.5

    /// The occlusion mask of frame 1 from the forward flow (frame 1 → 2) and the backward flow (frame 2 → 1).
    /// - Parameters:
    ///   - forward: flow 1 → 2.
    ///   - backward: flow 2 → 1, of the same size.
    ///   - alpha1: relative tolerance, ≥ 0 and finite.
    ///   - alpha2: absolute tolerance in px², ≥ 0 and finite.
    /// - Returns: set where the pixel of frame 1 is occluded (or leaves the frame).
    /// - Throws: ``FlowWarpError`` for different sizes or a negative or non-finite tolerance.
    public static func forwardBackward(forward: FlowField, backward: FlowField, alpha1: Float = defaultAlpha1,
                                       alpha2: Float = defaultAlpha2) throws(FlowWarpError) -> PixelMask {
        try FlowWarp.requireSameSize("forward flow", forward.width, forward.height,
                                     "backward flow", backward.width, backward.height)
        for (name, value) in [("alpha1", alpha1), ("alpha2", alpha2)] where !(value >= 0 && value.isFinite) {
            throw .invalidArgument(name: name, reason: "\(value) is not a finite, non-negative number")
        }
        let (w, h) = (forward.width, forward.height)
        var sampled = [Float](repeating: 0, count: w * h * 2)
        backward.uv.withUnsafeBufferPointer { b in
            forward.uv.withUnsafeBufferPointer { f in
                sampled.withUnsafeMutableBufferPointer { out in
                    guard let b = b.baseAddress, let f = f.baseAddress, let o = out.baseAddress else { return }
                    BilinearSampling.sample(b, width: w, height: h, channels: 2, displacement: f, output: o, inside: nil)
                }
            }
        }
        var occluded = [Bool](repeating: false, count: w * h)
        let (a1, a2) = (Double(alpha1), Double(alpha2))
        for p in 0..<(w * h) {
            // In Double: squares of large finite flows would overflow Float and compare inf with inf.
            let (fu, fv) = (Double(forward.uv[2 * p]), Double(forward.uv[2 * p + 1]))
            let (bu, bv) = (Double(sampled[2 * p]), Double(sampled[2 * p + 1]))
            let (du, dv) = (fu + bu, fv + bv)
            let lhs = du * du + dv * dv
            let rhs = a1 * ((fu * fu + fv * fv) + (bu * bu + bv * bv)) + a2
            occluded[p] = !(fu.isFinite && fv.isFinite && lhs <= rhs)
        }
        return PixelMask(unchecked: w, h, occluded)
    }
}
