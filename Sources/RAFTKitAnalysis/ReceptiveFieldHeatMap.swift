import RAFTKit
import Foundation

/// A picture of the impulse responses of a ``ReceptiveFieldStudy``: one row per variant, one column group per
/// perturbed state (x, then h₀) with a column per selected iteration k, each panel the whole grid at `scale`
/// pixels per cell.
///
/// Layout (white background, 5×7 pixel capitals): a two-line title; the perturbed state over each column group
/// and `k=…` over each column; at the left of each row the variant's name, parameter count, GMAC per iteration
/// and reach per iteration. A panel shows the cell energy
/// `E(p) = Σ_c Δh_c(p)²` on a log scale normalised to the panel's peak, `log10(E / max E)` from −`decades`
/// (dark violet) to 0 (yellow) with the viridis colour map; cells outside the analytical support (which cannot
/// respond at all, e.g. the holes of a dilated kernel) are black, and (finite-difference method only) reachable
/// cells whose change is indistinguishable from float32 rounding noise are grey. A colour bar with a tick per
/// decade and the swatches sit at the bottom.
public struct ReceptiveFieldHeatMap: Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved RGB, 0…255, row-major (the layout of ``RGBImage``).
    public let pixels: [Float]

    /// The picture as an image (write it with ``RGBImage/write(to:)``).
    public var image: RGBImage { RGBImage(unchecked: width, height, pixels) }

    /// Iterations shown by default: 1, 2, 4, 8, … up to `iterations`, plus `iterations` itself.
    public static func defaultIterations(upTo iterations: Int) -> [Int] {
        var ks: [Int] = []
        var k = 1
        while k <= iterations { ks.append(k); k *= 2 }
        if ks.last != iterations { ks.append(iterations) }
        return ks
    }

    /// Colour of reachable cells whose finite-difference change is too small to tell from rounding noise.
    static let belowThreshold: (Float, Float, Float) = (110, 110, 110)

    /// `text` in capitals for the bitmap font, keeping the `x` of kernel sizes such as `1x5`.
    static func capitals(_ text: String) -> String {
        let chars = Array(text)
        return String(chars.enumerated().map { i, c -> Character in
            if c == "x" && i > 0 && i + 1 < chars.count && chars[i - 1].isNumber && chars[i + 1].isNumber { return c }
            return Character(c.uppercased())
        })
    }

    /// Viridis colour map (6th-order polynomial fit, error < 1/255 per channel), `t` in [0, 1] → RGB 0…255.
    static func viridis(_ t: Double) -> (Float, Float, Float) {
        let t = min(max(t, 0), 1)
        let c: [(Double, Double, Double)] = [
            (0.2777273272234177, 0.005407344544966578, 0.3340998053353061),
            (0.1050930431085774, 1.404613529898575, 1.384590162594685),
            (-0.3308618287255563, 0.214847559468213, 0.09509516302823659),
            (-4.634230498983486, -5.799100973351585, -19.33244095627987),
            (6.228269936347081, 14.17993336680509, 56.69055260068105),
            (4.776384997670288, -13.74514537774601, -65.35303263337234),
            (-5.435455855934631, 4.645852612178535, 26.3124352495832),
        ]
        var r = 0.0, g = 0.0, b = 0.0
        for coefficient in c.reversed() {
            r = r * t + coefficient.0; g = g * t + coefficient.1; b = b * t + coefficient.2
        }
        func byte(_ v: Double) -> Float { Float((min(max(v, 0), 1) * 255).rounded()) }
        return (byte(r), byte(g), byte(b))
    }
}

extension ReceptiveFieldStudy {
    /// Renders the impulse responses (see ``ReceptiveFieldHeatMap`` for the layout).
    /// - Parameters:
    ///   - iterations: the columns; default 1, 2, 4, … and the last iteration.
    ///   - scale: pixels per grid cell.
    ///   - decades: orders of magnitude of energy below each panel's peak that the colour map spans; default the
    ///     extent threshold's, `−2·log10(τ)` (12 for τ = 10⁻⁶), so the coloured cells are those the extent counts.
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)`` for a `scale` or `decades` below 1.
    public func heatMap(iterations: [Int]? = nil, scale: Int = 2, decades: Int? = nil) throws(AnalysisError) -> ReceptiveFieldHeatMap {
        let decades = decades ?? max(1, Int((-2 * log10(options.threshold)).rounded()))
        try AnalysisError.require("scale", scale, atLeast: 1)
        try AnalysisError.require("decades", decades, atLeast: 1)
        let ks = (iterations ?? ReceptiveFieldHeatMap.defaultIterations(upTo: options.iterations))
            .filter { $0 >= 1 && $0 <= options.iterations }
        let fontScale = 2
        let lineHeight = (BitmapFont.glyphHeight + 3) * fontScale
        let margin = 16, gap = 10
        let panelW = options.width * scale, panelH = options.height * scale

        let o = options
        let title = ["IMPULSE RESPONSE |Δh|² OF THE HIDDEN STATE AFTER k ITERATIONS (LOG SCALE, EACH PANEL NORMALISED TO ITS PEAK)",
                     "\(o.height)x\(o.width) GRID, HIDDEN \(o.channels.hidden), INPUT \(o.channels.input), PERTURBATION AT THE CENTRE CELL, MEAN OF \(o.draws) DRAW\(o.draws == 1 ? "" : "S")"]
        // Column groups: one per perturbed state, each with a column per k.
        let groups = o.perturbations
        let groupGap = 4 * gap
        let groupW = ks.count * panelW + (ks.count - 1) * gap
        func columnX(_ group: Int, _ column: Int) -> Int { group * (groupW + groupGap) + column * (panelW + gap) }
        let labels: [[String]] = results.map { r in
            let p = Double(r.parameters)
            let params = p >= 1e6 ? String(format: "%.2fM", p / 1e6) : String(format: "%.0fK", p / 1e3)
            return [ReceptiveFieldHeatMap.capitals(r.name), "\(params) PARAMS", String(format: "%.2f GMAC/IT", Double(r.multiplyAccumulates) / 1e9),
                    "REACH \(r.reachPerIteration)/IT"]
        }
        let labelW = (labels.flatMap { $0 }.map { BitmapFont.width($0, scale: fontScale) }.max() ?? 0) + 2 * gap
        let gridW = labelW + groups.count * groupW + (groups.count - 1) * groupGap
        let rowH = max(panelH, 4 * lineHeight)
        let titleH = title.count * lineHeight + gap
        let headerH = 2 * lineHeight
        let barH = 16, legendH = gap + barH + 4 + lineHeight + lineHeight
        let barW = max(300, 40 * decades)
        let unreachable = "UNREACHABLE (OUTSIDE THE ANALYTICAL SUPPORT)"
        let weak = "REACHABLE, CHANGE BELOW FLOAT32 NOISE (FINITE DIFFERENCE ONLY)"
        let legendW = labelW + barW + 4 * gap + barH + max(BitmapFont.width(unreachable, scale: fontScale),
                                                          BitmapFont.width(weak, scale: fontScale))
        let width = max(gridW, legendW, title.map { BitmapFont.width($0, scale: fontScale) }.max()!) + 2 * margin
        let height = margin + titleH + headerH + results.count * rowH + (results.count - 1) * gap + legendH + margin
        var pixels = [Float](repeating: 255, count: 3 * width * height)
        let ink: (Float, Float, Float) = (0, 0, 0)

        func fill(_ x0: Int, _ y0: Int, _ w: Int, _ h: Int, _ c: (Float, Float, Float)) {
            for y in max(0, y0)..<min(height, y0 + h) {
                for x in max(0, x0)..<min(width, x0 + w) {
                    let i = 3 * (y * width + x)
                    pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
                }
            }
        }
        func text(_ s: String, _ x: Int, _ y: Int) {
            BitmapFont.draw(s, x: x, y: y, scale: fontScale, color: ink, into: &pixels, width: width, height: height)
        }

        var y = margin
        for line in title { text(line, margin, y); y += lineHeight }
        y += gap
        let panelsX = margin + labelW
        for (g, state) in groups.enumerated() {
            let name = state == .input ? "INPUT x PERTURBED (FED TO EVERY ITERATION)" : "INITIAL HIDDEN STATE h₀ PERTURBED"
            text(name, panelsX + columnX(g, 0) + (groupW - BitmapFont.width(name, scale: fontScale)) / 2, y)
            for (column, k) in ks.enumerated() {
                let label = "k=\(k)"
                text(label, panelsX + columnX(g, column) + (panelW - BitmapFont.width(label, scale: fontScale)) / 2, y + lineHeight)
            }
        }
        y += headerH

        let floor = -Double(decades)
        for (row, result) in results.enumerated() {
            let top = y + row * (rowH + gap)
            for (i, line) in labels[row].enumerated() { text(line, margin, top + i * lineHeight) }
            for (g, measurement) in result.measurements.enumerated() {
                guard let response = measurement.response else { continue }
                for (column, k) in ks.enumerated() {
                    let left = panelsX + columnX(g, column)
                    let map = response.energy[k - 1]
                    let support = measurement.supports[k - 1]
                    let peak = map.max() ?? 0
                    for cy in 0..<options.height {
                        for cx in 0..<options.width {
                            let p = cy * options.width + cx
                            let colour: (Float, Float, Float)
                            if !support.cells[p] {
                                colour = (0, 0, 0)
                            } else if !response.isResolved(iteration: k, cell: p) {
                                colour = ReceptiveFieldHeatMap.belowThreshold
                            } else {
                                let v = map[p] > 0 && peak > 0 ? log10(map[p] / peak) : floor
                                colour = ReceptiveFieldHeatMap.viridis((v - floor) / -floor)
                            }
                            fill(left + cx * scale, top + cy * scale, scale, scale, colour)
                        }
                    }
                }
            }
        }

        // Colour bar: −decades … 0, a tick per decade, labels every other decade; then the "unreachable" swatch.
        let barTop = y + results.count * rowH + (results.count - 1) * gap + gap
        let barLeft = panelsX
        for i in 0..<barW {
            fill(barLeft + i, barTop, 1, barH, ReceptiveFieldHeatMap.viridis(Double(i) / Double(barW - 1)))
        }
        let widest = BitmapFont.width("1e-\(decades)", scale: fontScale) + 3 * fontScale
        let labelStep = [1, 2, 5, 10, 20, 50].first { Double(barW) / Double(decades) * Double($0) >= Double(widest) } ?? decades
        for d in 0...decades {
            let x = barLeft + Int((Double(d) / Double(decades) * Double(barW - 1)).rounded())
            fill(x, barTop + barH, 1, 4, ink)
            let exponent = d - decades
            if exponent % labelStep == 0 {
                let s = exponent == 0 ? "1" : "1e\(exponent)"
                let w = BitmapFont.width(s, scale: fontScale)
                text(s, min(max(margin, x - w / 2), width - margin - w), barTop + barH + 6)
            }
        }
        text("E / PEAK E", margin, barTop)
        let swatchX = barLeft + barW + 3 * gap
        fill(swatchX, barTop, barH, barH, (0, 0, 0))
        text(unreachable, swatchX + barH + gap, barTop + 1)
        if options.method == .difference {
            fill(swatchX, barTop + lineHeight + 2, barH, barH, ReceptiveFieldHeatMap.belowThreshold)
            text(weak, swatchX + barH + gap, barTop + lineHeight + 3)
        }
        return ReceptiveFieldHeatMap(width: width, height: height, pixels: pixels)
    }
}
