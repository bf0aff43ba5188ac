/// Bilinear resampling of images and flow fields, for running the network at another resolution than the
/// frames' (`raftflow --scale`, ptlflow's `--scale_factor`).
///
/// Sample centres are aligned as in PyTorch's `F.interpolate(mode: "bilinear", align_corners=False)`: output
/// pixel x samples the input at (x + 0.5)·inWidth/outWidth − 0.5, clamped to the edge. There is no
/// anti-aliasing filter, as in that call's default, so strong downscaling aliases fine texture.
enum Bilinear {
    /// Resamples `channels` interleaved planes of `width`×`height` to `outWidth`×`outHeight`.
    static func resize(_ source: [Float], width: Int, height: Int, channels: Int, toWidth outWidth: Int,
                       height outHeight: Int) -> [Float] {
        var out = [Float](repeating: 0, count: outWidth * outHeight * channels)
        // Per output column: left source column, right source column, weight of the right one.
        func taps(_ outSize: Int, _ inSize: Int) -> [(Int, Int, Float)] {
            let ratio = Double(inSize) / Double(outSize)
            return (0..<outSize).map { o in
                let s = max(0, (Double(o) + 0.5) * ratio - 0.5)
                let i0 = min(Int(s), inSize - 1)
                let i1 = min(i0 + 1, inSize - 1)
                return (i0, i1, Float(s - Double(i0)))
            }
        }
        let columns = taps(outWidth, width), rows = taps(outHeight, height)
        source.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (y, (y0, y1, fy)) in rows.enumerated() {
                    for (x, (x0, x1, fx)) in columns.enumerated() {
                        for c in 0..<channels {
                            let a = src[(y0 * width + x0) * channels + c], b = src[(y0 * width + x1) * channels + c]
                            let d = src[(y1 * width + x0) * channels + c], e = src[(y1 * width + x1) * channels + c]
                            let top = a + (b - a) * fx, bottom = d + (e - d) * fx
                            dst[(y * outWidth + x) * channels + c] = top + (bottom - top) * fy
                        }
                    }
                }
            }
        }
        return out
    }
}

extension RGBImage {
    /// The image resampled bilinearly to `width`×`height` (a side below 1 is taken as 1); see ``Bilinear``'s
    /// alignment.
    public func resized(width: Int, height: Int) -> RGBImage {
        let (newWidth, newHeight) = (max(width, 1), max(height, 1))
        if newWidth == self.width && newHeight == self.height { return self }
        return RGBImage(unchecked: newWidth, newHeight,
                        Bilinear.resize(pixels, width: self.width, height: self.height, channels: 3,
                                        toWidth: newWidth, height: newHeight))
    }

    /// The size `scale` times this one, rounded, at least 1×1.
    public func scaledSize(_ scale: Double) -> (width: Int, height: Int) {
        (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }
}

extension FlowField {
    /// The flow resampled bilinearly to `width`×`height` (a side below 1 is taken as 1), with its vectors rescaled
    /// to the new pixel grid: u times newWidth/width, v times newHeight/height. The validity mask, if any, is
    /// resampled too (a pixel stays valid where the interpolated value is ≥ 0.5).
    public func resized(width: Int, height: Int) -> FlowField {
        let (newWidth, newHeight) = (max(width, 1), max(height, 1))
        if newWidth == self.width && newHeight == self.height { return self }
        var uv = Bilinear.resize(uv, width: self.width, height: self.height, channels: 2, toWidth: newWidth, height: newHeight)
        let su = Float(newWidth) / Float(self.width), sv = Float(newHeight) / Float(self.height)
        for i in 0..<newWidth * newHeight {
            uv[2 * i] *= su
            uv[2 * i + 1] *= sv
        }
        let mask = valid.map {
            Bilinear.resize($0, width: self.width, height: self.height, channels: 1, toWidth: newWidth, height: newHeight)
        }
        return FlowField(unchecked: newWidth, newHeight, uv: uv, valid: mask)
    }
}
