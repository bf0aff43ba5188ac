/// The bilinear look-up shared by both correlation strategies (core/corr.py, `CorrBlock.__call__`, which samples
/// with core/utils/utils.py's `bilinear_sampler`).
///
/// At level `i` a source pixel looks at the `(2r+1)²` points `(x/2^i + dx, y/2^i + dy)`, `dx, dy ∈ −r…r`.
/// All of them share the fractional part of the centre, so they interpolate the `(2r+2)²` integer-grid
/// window whose top-left corner is `(⌊x/2^i⌋ − r, ⌊y/2^i⌋ − r)`: a caller fills that window (zeros outside
/// the level's grid, as `grid_sample(padding_mode='zeros')`) and this type interpolates and writes the
/// channels in RAFT's x-major order `c = (dx + r)·(2r+1) + (dy + r)`.
package enum CorrelationWindow {
    /// Where a centre coordinate falls on a level of `size` samples: the integer start of the window
    /// (`⌊c⌋ − r`) and the fractional part, or nil when no tap of the window can touch the grid (also for
    /// NaN and infinite coordinates, which are never converted to integers).
    @inline(__always)
    package static func locate(_ c: Float, size: Int, radius: Int) -> (start: Int, fraction: Float)? {
        guard c > Float(-radius - 2), c < Float(size + radius + 1) else { return nil }
        let floor = c.rounded(.down)
        return (Int(floor) - radius, c - floor)
    }

    /// Interpolates a window and writes `(2r+1)²` channels.
    /// - Parameters:
    ///   - window: `[2r+2, 2r+2]` samples, row = y, column = x, rows `rowStride` apart: a filled window
    ///     (`rowStride = 2r+2`) or, when the window lies inside the level, the level's plane itself.
    ///   - fx, fy: fractional parts of the centre.
    ///   - output: first channel of this level for the current pixel; channel `c` goes to `output[c·stride]`.
    @inline(__always)
    package static func interpolate(window: UnsafePointer<Float>, rowStride s: Int, radius: Int, fx: Float, fy: Float,
                                    output: UnsafeMutablePointer<Float>, stride: Int) {
        let side = 2 * radius + 1
        // grid_sample's weights: north-west, north-east, south-west, south-east corners.
        let nw = (1 - fx) * (1 - fy), ne = fx * (1 - fy), sw = (1 - fx) * fy, se = fx * fy
        for a in 0..<side {                       // x offset (outer)
            let out = output + a * side * stride
            for b in 0..<side {                   // y offset (inner)
                let top = window + b * s + a
                let bottom = top + s
                out[b * stride] = top[0] * nw + top[1] * ne + bottom[0] * sw + bottom[1] * se
            }
        }
    }

    /// Fills the `side × side` window whose top-left sample is `(x0, y0)` on a `height × width` level: samples outside
    /// the level are zero, and `inside(row, y, columns)` writes the columns `columns` of a window row, whose level
    /// samples `(x0 + k, y)` exist. The two strategies differ only in how they produce those samples (a copy of the
    /// stored level, or dot products).
    @inline(__always)
    package static func fill(_ window: UnsafeMutablePointer<Float>, side: Int, x0: Int, y0: Int, height: Int, width: Int,
                             inside: (_ row: UnsafeMutablePointer<Float>, _ y: Int, _ columns: Range<Int>) -> Void) {
        let first = min(side, max(0, -x0)), columns = first..<max(first, min(side, width - x0))
        for j in 0..<side {
            let row = window + j * side, y = y0 + j
            guard y >= 0 && y < height else { row.update(repeating: 0, count: side); continue }
            for k in 0..<columns.lowerBound { row[k] = 0 }
            inside(row, y, columns)
            for k in columns.upperBound..<side { row[k] = 0 }
        }
    }

    /// Whether the `(2r+2)²` window at `(x0, y0)` lies inside a `height × width` level (no zeros needed).
    @inline(__always)
    package static func isInside(x0: Int, y0: Int, radius: Int, height: Int, width: Int) -> Bool {
        x0 >= 0 && y0 >= 0 && x0 + 2 * radius + 2 <= width && y0 + 2 * radius + 2 <= height
    }

    /// Writes zeros to the `(2r+1)²` channels of one level for one pixel.
    @inline(__always)
    package static func zero(radius: Int, output: UnsafeMutablePointer<Float>, stride: Int) {
        let n = (2 * radius + 1) * (2 * radius + 1)
        for c in 0..<n { output[c * stride] = 0 }
    }
}
