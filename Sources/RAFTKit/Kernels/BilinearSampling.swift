/// Bilinear sampling of an interleaved image at displaced pixel positions: the arithmetic of
/// `torch.nn.functional.grid_sample(…, mode="bilinear", padding_mode="zeros", align_corners=True)`, which
/// core/utils/utils.py, `bilinear_sampler`, calls with pixel coordinates mapped to [−1, 1].
///
/// With `align_corners=True` the normalised coordinate −1 is the centre of pixel 0 and +1 that of pixel
/// `size − 1`, so sampling at pixel coordinates needs no half-pixel shift: the value at (sx, sy) is the
/// weighted sum of the four pixels around it, and a tap outside the image contributes zero.
package enum BilinearSampling {
    /// The smallest weight of the in-image taps for a sample to count as fully inside the image: PWC-Net's
    /// validity mask (grid_sample of ones, kept where ≥ 0.9999), which RAFT's users carry over.
    package static let validWeight: Float = 0.9999

    /// For every pixel p = (x, y) of an `height × width` grid, samples `source` (`[height, width, channels]`,
    /// interleaved) at (x + u, y + v), where (u, v) = `displacement[2p]`, `displacement[2p + 1]`.
    /// - Parameters:
    ///   - output: `[height, width, channels]`; zero where every tap is outside (and where the displacement is
    ///     not finite).
    ///   - inside: `[height · width]`, optional: the total weight of the in-image taps (1 inside, 0 for a
    ///     non-finite displacement or one that leaves the image entirely).
    package static func sample(_ source: UnsafePointer<Float>, width: Int, height: Int, channels: Int,
                               displacement: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                               inside: UnsafeMutablePointer<Float>?) {
        let (fw, fh) = (Float(width), Float(height))
        for y in 0..<height {
            for x in 0..<width {
                let p = y * width + x
                let out = output + p * channels
                for c in 0..<channels { out[c] = 0 }
                inside?[p] = 0
                let sx = Float(x) + displacement[2 * p], sy = Float(y) + displacement[2 * p + 1]
                // Also false for NaN; beyond these bounds every tap is outside (and Int(_:) stays in range).
                guard sx > -1, sx < fw, sy > -1, sy < fh else { continue }
                let x0f = sx.rounded(.down), y0f = sy.rounded(.down)
                let (x0, y0) = (Int(x0f), Int(y0f))
                // grid_sample's weights: nw = (x_se − x)(y_se − y), … with x_se = x_nw + 1.
                let (ex, wy) = (x0f + 1 - sx, sx - x0f), (ey, sy1) = (y0f + 1 - sy, sy - y0f)
                var total: Float = 0
                @inline(__always) func tap(_ tx: Int, _ ty: Int, _ weight: Float) {
                    guard tx >= 0, tx < width, ty >= 0, ty < height else { return }
                    let t = source + (ty * width + tx) * channels
                    for c in 0..<channels { out[c] += weight * t[c] }
                    total += weight
                }
                tap(x0, y0, ex * ey)            // north-west
                tap(x0 + 1, y0, wy * ey)        // north-east
                tap(x0, y0 + 1, ex * sy1)       // south-west
                tap(x0 + 1, y0 + 1, wy * sy1)   // south-east
                inside?[p] = total
            }
        }
    }
}
