import Foundation

/// A picture of the impulse responses of a ``ReceptiveFieldStudy``: one row per variant, one column per
/// selected iteration k, each panel the whole grid at `scale` pixels per cell.
///
/// Layout (white background, 5×7 pixel capitals): a two-line title; `k=…` over each column; at the left of each
/// row the variant's name, parameter count and reach per iteration. A panel shows the cell energy
/// `E(p) = Σ_c Δh_c(p)²` on a log scale normalised to the panel's peak, `log10(E / max E)` from −`decades`
/// (dark violet) to 0 (yellow) with the viridis colour map; cells outside the analytical support (which cannot
/// respond at all, e.g. the holes of a dilated kernel) are black. A colour bar with a tick per decade and a
/// black "unreachable" swatch sit at the bottom.
public struct ReceptiveFieldHeatMap: Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved RGB, 0…255, row-major (the layout of ``RGBImage``).
    public let pixels: [Float]

    /// Iterations shown by default: 1, 2, 4, 8, … up to `iterations`, plus `iterations` itself.
    public static func defaultIterations(upTo iterations: Int) -> [Int] {
        var ks: [Int] = []
        var k = 1
        while k <= iterations { ks.append(k); k *= 2 }
        if ks.last != iterations { ks.append(iterations) }
        return ks
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
    ///   - decades: orders of magnitude of energy below each panel's peak that the colour map spans.
    public func heatMap(iterations: [Int]? = nil, scale: Int = 3, decades: Int = 10) -> ReceptiveFieldHeatMap {
        precondition(scale >= 1 && decades >= 1, "heatMap: scale and decades must be positive")
        let ks = (iterations ?? ReceptiveFieldHeatMap.defaultIterations(upTo: options.iterations))
            .filter { $0 >= 1 && $0 <= options.iterations }
        let fontScale = 2
        let lineHeight = (BitmapFont.glyphHeight + 3) * fontScale
        let margin = 16, gap = 10
        let panelW = options.width * scale, panelH = options.height * scale

        let o = options
        let state = o.perturbing == .input ? "x" : "h₀"
        let title = ["IMPULSE RESPONSE |Δh|² OF THE HIDDEN STATE AFTER k ITERATIONS (LOG SCALE, EACH PANEL NORMALISED TO ITS PEAK)",
                     "\(o.height)x\(o.width) GRID, HIDDEN \(o.channels.hidden), INPUT \(o.channels.input), \(state) PERTURBED AT THE CENTRE CELL, MEAN OF \(o.draws) DRAW\(o.draws == 1 ? "" : "S")"]
        let labels: [[String]] = results.map { r in
            let p = Double(r.parameters)
            let params = p >= 1e6 ? String(format: "%.2fM", p / 1e6) : String(format: "%.0fK", p / 1e3)
            return [r.name, "\(params) PARAMS", String(format: "%.2f GMAC/IT", Double(r.multiplyAccumulates) / 1e9),
                    "REACH \(r.reachPerIteration)/IT"]
        }
        let labelW = (labels.flatMap { $0 }.map { BitmapFont.width($0, scale: fontScale) }.max() ?? 0) + 2 * gap
        let gridW = labelW + ks.count * panelW + (ks.count - 1) * gap
        let rowH = max(panelH, 4 * lineHeight)
        let titleH = title.count * lineHeight + gap
        let headerH = lineHeight
        let barH = 16, legendH = gap + barH + 4 + lineHeight + lineHeight
        let barW = min(gridW - labelW, max(300, 60 * decades))
        let unreachable = "UNREACHABLE (OUTSIDE THE ANALYTICAL SUPPORT)"
        let legendW = labelW + barW + 4 * gap + barH + BitmapFont.width(unreachable, scale: fontScale)
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
        for (column, k) in ks.enumerated() {
            let label = "k=\(k)"
            text(label, panelsX + column * (panelW + gap) + (panelW - BitmapFont.width(label, scale: fontScale)) / 2, y)
        }
        y += headerH

        let floor = -Double(decades)
        for (row, result) in results.enumerated() {
            let top = y + row * (rowH + gap)
            for (i, line) in labels[row].enumerated() { text(line, margin, top + i * lineHeight) }
            guard let response = result.response else { continue }
            for (column, k) in ks.enumerated() {
                let left = panelsX + column * (panelW + gap)
                let map = response.energy[k - 1]
                let support = result.supports[k - 1]
                let peak = map.max() ?? 0
                for cy in 0..<options.height {
                    for cx in 0..<options.width {
                        let p = cy * options.width + cx
                        let colour: (Float, Float, Float)
                        if !support.cells[p] {
                            colour = (0, 0, 0)
                        } else {
                            let v = map[p] > 0 && peak > 0 ? log10(map[p] / peak) : floor
                            colour = ReceptiveFieldHeatMap.viridis((v - floor) / -floor)
                        }
                        fill(left + cx * scale, top + cy * scale, scale, scale, colour)
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
        let labelStep = decades > 6 ? 2 : 1
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
        return ReceptiveFieldHeatMap(width: width, height: height, pixels: pixels)
    }
}
