/// im2col: lays out every receptive-field patch of an input as a column so that a convolution becomes one
/// GEMM `weights[Cout, Cin·kh·kw] × columns[Cin·kh·kw, oh·ow]`.
///
/// Row `(c·kh + ky)·kw + kx` of the column matrix holds input channel `c` shifted by kernel tap
/// `(ky, kx)`, which is exactly PyTorch's OIHW weight order, so weights need no reordering. Callers may
/// write the rows of a channel range into any row offset; the GRUs use that to refresh only the
/// hidden-state rows of a shared `[h, x]` column matrix.
package enum Im2col {
    /// Writes `channels·kh·kw` rows of length `oh·ow` to `columns`, split over the threads by channel.
    /// - Parameters:
    ///   - input: `[channels, height, width]` of one sample.
    ///   - columns: destination, `[channels·kh·kw, oh·ow]`, row stride `oh·ow`.
    package static func write(input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                              geometry g: ConvGeometry, columns: UnsafeMutablePointer<Float>) {
        let (oh, ow) = g.outputSize(height: height, width: width)
        let taps = g.kernelHeight * g.kernelWidth
        Parallel.forEach(channels, context: (input, height, width, g, oh, ow, taps, columns)) { im2col, part in
            let (input, height, width, g, oh, ow, taps, columns) = im2col
            write(input: input + part.lowerBound * height * width, channels: part.count, height: height, width: width,
                  geometry: g, outputRows: 0..<oh, columns: columns + part.lowerBound * taps * oh * ow)
        }
    }

    /// The columns of output rows `outputRows` only, on the calling thread: `channels·kh·kw` rows of length
    /// `outputRows.count·ow` (that row stride). A convolution can then multiply a cache-sized block of columns
    /// right after writing it.
    package static func write(input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                              geometry g: ConvGeometry, outputRows: Range<Int>, columns: UnsafeMutablePointer<Float>) {
        let ow = g.outputSize(height: height, width: width).width
        let rowLength = outputRows.count * ow
        var row = columns
        for c in 0..<channels {
            let plane = input + c * height * width
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let dx = kx * g.dilationX - g.paddingX
                    // Range of ox whose input column ix = ox·sx + dx lies inside [0, width).
                    let oxStart = dx >= 0 ? 0 : min(ow, (-dx + g.strideX - 1) / g.strideX)
                    let oxEnd = max(oxStart, min(ow, width - dx <= 0 ? 0 : (width - 1 - dx) / g.strideX + 1))
                    for oy in outputRows {
                        let iy = oy * g.strideY + ky * g.dilationY - g.paddingY
                        let out = row + (oy - outputRows.lowerBound) * ow
                        if iy < 0 || iy >= height {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * width
                        if oxStart > 0 { out.update(repeating: 0, count: oxStart) }
                        if g.strideX == 1 {
                            (out + oxStart).update(from: src + oxStart + dx, count: oxEnd - oxStart)
                        } else if g.strideX == 2 {
                            // Eight outputs from the even lanes of one 16-float load, while it stays in the row.
                            var ox = oxStart
                            while ox + 8 <= oxEnd && 2 * ox + dx + 16 <= width {
                                let v = UnsafeRawPointer(src + 2 * ox + dx).loadUnaligned(as: SIMD16<Float>.self)
                                UnsafeMutableRawPointer(out + ox).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                ox += 8
                            }
                            while ox < oxEnd { out[ox] = src[2 * ox + dx]; ox += 1 }
                        } else {
                            var ox = oxStart
                            while ox < oxEnd { out[ox] = src[ox * g.strideX + dx]; ox += 1 }
                        }
                        if oxEnd < ow { (out + oxEnd).update(repeating: 0, count: ow - oxEnd) }
                    }
                    row += rowLength
                }
            }
        }
    }
}
