/// Pictures of flow fields: the Middlebury colour coding, an error heat map against ground truth, a
/// colour-wheel legend and side-by-side composites. All return ``RGBImage`` with integer samples in
/// 0…255, ready for ``RGBImage/write(to:)``.
public enum FlowVisualization {
    /// The Middlebury colour coding of a flow field (the reference `flow_to_image`).
    ///
    /// With `maximumMagnitude` nil (the default) the flow is normalised like the reference: divided by
    /// `rad_max + 1e-5`, where `rad_max` is the longest vector in this field, so every frame uses the full
    /// saturation range and colours of different frames are not comparable. Pass a fixed magnitude `M` (in
    /// pixels) to colour a sequence consistently: the flow is divided by `M` itself (no epsilon), so a
    /// vector of length `M` gets the full wheel colour, and longer vectors are drawn at full saturation
    /// darkened to 75 %, the out-of-range convention built into the reference `flow_uv_to_colors`.
    ///
    /// The reference's own `clip_flow` argument clips each *component* to [0, clip], which turns all
    /// leftward and upward motion into zero; RAFTKit does not offer that quirk — the fixed magnitude above
    /// is what it is usually wanted for.
    ///
    /// Pixels whose flow is NaN or infinite, and pixels marked invalid by the field's ``FlowField/valid``
    /// mask (such as KITTI ground truth without a measurement), are painted black and ignored when finding
    /// `rad_max`; a field without a mask and with finite values is coloured exactly like the reference.
    ///
    /// - Parameter maximumMagnitude: fixed normalising length in pixels; a value that is not positive and finite
    ///   is ignored (the flow's largest magnitude is used, as without one).
    /// - Returns: an image of the flow's size.
    public static func colorImage(_ flow: FlowField, maximumMagnitude: Float? = nil) -> RGBImage {
        let fixed = maximumMagnitude.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let scale: Float = fixed ?? (flow.maxMagnitude + 1e-5)
        var pixels = [Float](repeating: 0, count: flow.width * flow.height * 3)
        for i in 0..<flow.width * flow.height {
            if let valid = flow.valid, valid[i] < 0.5 { continue }
            let (r, g, b) = ColorWheel.color(u: flow.uv[2 * i] / scale, v: flow.uv[2 * i + 1] / scale)
            pixels[3 * i] = Float(r)
            pixels[3 * i + 1] = Float(g)
            pixels[3 * i + 2] = Float(b)
        }
        return RGBImage(unchecked: flow.width, flow.height, pixels)
    }

    /// A square legend of the colour coding: the pixel at offset (dx, dy) from the centre shows the colour
    /// of the flow (dx, dy)/R, R = size/2, so the rim of the disc is the normalising magnitude (the largest
    /// flow of a frame, or `maximumMagnitude`). Outside the disc the legend is white. A `size` below 1 gives an
    /// empty image.
    public static func colorWheelLegend(size: Int = 256) -> RGBImage {
        let size = max(size, 0)
        var image = RGBImage.filled(width: size, height: size, color: (255, 255, 255))
        let radius = Float(size) / 2
        for y in 0..<size {
            for x in 0..<size {
                let u = (Float(x) + 0.5 - radius) / radius, v = (Float(y) + 0.5 - radius) / radius
                guard u * u + v * v <= 1 else { continue }
                let (r, g, b) = ColorWheel.color(u: u, v: v)
                image[x: x, y: y] = (Float(r), Float(g), Float(b))
            }
        }
        return image
    }

    /// Colours of the error map, from small to large normalised error (ColorBrewer RdYlBu, 10 classes,
    /// blue to red, the palette of the KITTI development kit's error images).
    public static let errorColors: [(r: Float, g: Float, b: Float)] = [
        (49, 54, 149), (69, 117, 180), (116, 173, 209), (171, 217, 233), (224, 243, 248),
        (254, 224, 144), (253, 174, 97), (244, 109, 67), (215, 48, 39), (165, 0, 38),
    ]
    /// Upper bounds of the first nine error classes; the normalised error doubles from class to class and
    /// class 5 (the first warm colour) starts just above 1, i.e. at the KITTI outlier threshold.
    public static let errorBounds: [Float] = [0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16]
    /// The colour of pixels without valid ground truth.
    public static let invalidColor: (r: Float, g: Float, b: Float) = (128, 128, 128)

    /// An end-point-error heat map in the style of the KITTI development kit.
    ///
    /// Each valid pixel's end-point error `e = ‖f − f_gt‖` is normalised by the KITTI outlier thresholds,
    /// `n = min(e / 3, (e / ‖f_gt‖) / 0.05)`, so `n > 1` exactly when the pixel is an Fl outlier
    /// (e > 3 px and e > 5 % of the true motion). `n` picks one of ten classes on a doubling scale
    /// (``errorBounds``): blues below 1, yellow to dark red above. Pixels without valid ground truth (mask
    /// < 0.5 or non-finite) are a neutral gray (``invalidColor``); a non-finite prediction at a valid pixel
    /// counts as an infinite error (darkest red).
    ///
    /// - Throws: ``FlowEstimatorError/sizeMismatch(first:firstSize:second:secondSize:)`` when the fields differ
    ///   in size.
    public static func errorImage(_ flow: FlowField, groundTruth: FlowField) throws(FlowEstimatorError) -> RGBImage {
        guard flow.width == groundTruth.width, flow.height == groundTruth.height else {
            throw .sizeMismatch(first: "prediction", firstSize: (flow.width, flow.height),
                                second: "ground truth", secondSize: (groundTruth.width, groundTruth.height))
        }
        var pixels = [Float](repeating: 0, count: flow.width * flow.height * 3)
        for i in 0..<flow.width * flow.height {
            let gu = groundTruth.uv[2 * i], gv = groundTruth.uv[2 * i + 1]
            var color = invalidColor
            if (groundTruth.valid.map { $0[i] >= 0.5 } ?? true) && gu.isFinite && gv.isFinite {
                let n = normalizedError(u: flow.uv[2 * i], v: flow.uv[2 * i + 1], gtU: gu, gtV: gv)
                color = errorColors[errorBounds.reduce(0) { $0 + (n > $1 ? 1 : 0) }]
            }
            pixels[3 * i] = color.r
            pixels[3 * i + 1] = color.g
            pixels[3 * i + 2] = color.b
        }
        return RGBImage(unchecked: flow.width, flow.height, pixels)
    }

    /// `min(e / 3, (e / ‖gt‖) / 0.05)` with non-finite predictions as +∞ and 0/0 as 0.
    static func normalizedError(u: Float, v: Float, gtU: Float, gtV: Float) -> Float {
        let du = u - gtU, dv = v - gtV
        let e = (du * du + dv * dv).squareRoot()
        guard e.isFinite else { return .infinity }
        guard e > 0 else { return 0 }
        let magnitude = (gtU * gtU + gtV * gtV).squareRoot()
        return min(e / 3, magnitude > 0 ? e / magnitude / 0.05 : .infinity)
    }

    /// Panels placed left to right, top-aligned, `spacing` columns of `background` between them; shorter
    /// panels are padded below with `background`. A negative `spacing` counts as 0.
    public static func sideBySide(_ panels: [RGBImage], spacing: Int = 0,
                                  background: (Float, Float, Float) = (255, 255, 255)) -> RGBImage {
        let spacing = max(spacing, 0)
        guard !panels.isEmpty else { return RGBImage(unchecked: 0, 0, []) }
        let width = panels.reduce(0) { $0 + $1.width } + spacing * (panels.count - 1)
        let height = panels.map(\.height).max()!
        var out = RGBImage.filled(width: width, height: height, color: background)
        var x0 = 0
        for panel in panels {
            for y in 0..<panel.height {
                let src = y * panel.width * 3, dst = (y * width + x0) * 3
                for j in 0..<panel.width * 3 { out.pixels[dst + j] = panel.pixels[src + j] }
            }
            x0 += panel.width + spacing
        }
        return out
    }

    /// The usual overview: frame | colour-coded flow, plus | error map when ground truth is given.
    /// - Throws: ``FlowEstimatorError/sizeMismatch(first:firstSize:second:secondSize:)`` when the frame, the flow
    ///   and the ground truth differ in size.
    public static func overview(frame: RGBImage, flow: FlowField, groundTruth: FlowField? = nil,
                                maximumMagnitude: Float? = nil, spacing: Int = 0) throws(FlowEstimatorError) -> RGBImage {
        guard frame.width == flow.width, frame.height == flow.height else {
            throw .sizeMismatch(first: "frame", firstSize: (frame.width, frame.height),
                                second: "flow", secondSize: (flow.width, flow.height))
        }
        var panels = [frame, colorImage(flow, maximumMagnitude: maximumMagnitude)]
        if let groundTruth { panels.append(try errorImage(flow, groundTruth: groundTruth)) }
        return sideBySide(panels, spacing: spacing)
    }
}
