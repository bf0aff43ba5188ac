/// Backward warping of an image with a flow field: output(x) = image(x + flow(x)), sampled bilinearly.
///
/// With the flow `F` from frame 1 to frame 2, warping **frame 2** with `F` gives frame 2 seen from frame 1's
/// pixels: where nothing is occluded it reproduces frame 1. This is RAFT's own sampling (core/utils/utils.py,
/// `bilinear_sampler`: `grid_sample(…, align_corners=True)`, zeros outside the image), and the arithmetic of
/// `torch.nn.functional.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)` with
/// `grid` = 2·(x + F)/(size − 1) − 1 (tested against it).
///
/// ```swift
/// let result = try FlowWarp.warp(frame2, with: estimate.flow)
/// try result.image.write(to: URL(fileURLWithPath: "warped.png"))     // ≈ frame1 where valid
/// try result.valid.write(to: URL(fileURLWithPath: "valid.png"))
/// let error = try FlowWarp.photometricError(result, reference: frame1)  // |warped − frame1|
/// ```
public enum FlowWarp {
    /// A warped image and where it is valid.
    public struct Result: Sendable, Equatable {
        /// The warped image: `image(x + flow(x))`; zero weight for the taps outside the source image.
        public var image: RGBImage
        /// Set where the sample's whole bilinear footprint lies inside the source image (the in-image taps carry
        /// at least 0.9999 of the weight, PWC-Net's mask); clear where it leaves the image or the flow is not
        /// finite.
        public var valid: PixelMask
    }

    /// Warps `image` backwards with `flow`: pixel x of the result is `image` sampled bilinearly at x + flow(x).
    /// - Parameters:
    ///   - image: the frame the flow points into (frame 2 for a flow 1 → 2).
    ///   - flow: a flow of the same size (its own validity mask is ignored).
    /// - Throws: ``FlowWarpError/sizeMismatch(first:firstWidth:firstHeight:second:secondWidth:secondHeight:)``
    ///   when the sizes differ.
    public static func warp(_ image: RGBImage, with flow: FlowField) throws(FlowWarpError) -> Result {
        try requireSameSize("image", image.width, image.height, "flow", flow.width, flow.height)
        let (w, h) = (image.width, image.height)
        var pixels = [Float](repeating: 0, count: w * h * 3), inside = [Float](repeating: 0, count: w * h)
        image.pixels.withUnsafeBufferPointer { src in
            flow.uv.withUnsafeBufferPointer { uv in
                pixels.withUnsafeMutableBufferPointer { out in
                    inside.withUnsafeMutableBufferPointer { weight in
                        guard let s = src.baseAddress, let d = uv.baseAddress, let o = out.baseAddress else { return }
                        BilinearSampling.sample(s, width: w, height: h, channels: 3, displacement: d, output: o,
                                                inside: weight.baseAddress)
                    }
                }
            }
        }
        return Result(image: RGBImage(unchecked: w, h, pixels),
                      valid: PixelMask(unchecked: w, h, inside.map { $0 >= BilinearSampling.validWeight }))
    }

    /// The photometric error of a warped image against the frame it should reproduce: per pixel, the mean
    /// absolute difference of the R, G and B samples (0…255), and 0 where the warp is not valid.
    /// - Parameters:
    ///   - warped: ``warp(_:with:)`` of frame 2 with the flow 1 → 2.
    ///   - reference: frame 1, the flow's first frame.
    /// - Returns: a gray image (all three channels equal) of the error.
    /// - Throws: ``FlowWarpError/sizeMismatch(first:firstWidth:firstHeight:second:secondWidth:secondHeight:)``.
    public static func photometricError(_ warped: Result, reference: RGBImage) throws(FlowWarpError) -> RGBImage {
        let image = warped.image
        try requireSameSize("warped image", image.width, image.height, "reference", reference.width, reference.height)
        var pixels = [Float](repeating: 0, count: image.pixels.count)
        for p in 0..<(image.width * image.height) where warped.valid.values[p] {
            var e: Float = 0
            for c in 0..<3 { e += abs(image.pixels[3 * p + c] - reference.pixels[3 * p + c]) }
            for c in 0..<3 { pixels[3 * p + c] = e / 3 }
        }
        return RGBImage(unchecked: image.width, image.height, pixels)
    }

    static func requireSameSize(_ a: String, _ aw: Int, _ ah: Int, _ b: String, _ bw: Int, _ bh: Int) throws(FlowWarpError) {
        guard aw == bw, ah == bh else {
            throw .sizeMismatch(first: a, firstWidth: aw, firstHeight: ah, second: b, secondWidth: bw, secondHeight: bh)
        }
    }
}
