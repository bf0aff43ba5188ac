import Foundation

/// KITTI 2012/2015 flow PNGs: 16-bit RGB with R = 64·u + 32768, G = 64·v + 32768 and B = valid (0 or 1),
/// as in the KITTI development kit and the reference `readFlowKITTI`/`writeFlowKITTI`.
///
/// Reading: u = (R − 32768)/64, v = (G − 32768)/64 exactly, and ``FlowField/valid`` = B (pixels count as
/// valid when B ≥ 0.5; KITTI ground truth uses 0 and 1). Any other layout than 16-bit RGB is refused.
///
/// Writing follows the reference writer bit for bit where it is defined: `64·u + 32768` is computed in
/// Float32 and **truncated** towards zero (no rounding), so u = −0.01 is stored as 32767 and reads back as
/// −0.015625. The format can only hold −512 ≤ u < 512 (1/64-pixel steps); where the reference's uint16
/// cast would wrap around (undefined for out-of-range floats), RAFTKit **clamps** to 0…65535, so larger
/// displacements saturate at −512 or +511.984375 instead of changing sign. B is 1 for valid pixels (all
/// of them when the field has no mask) and 0 for invalid ones; invalid pixels whose flow is not finite are
/// stored as zero flow (32768). Non-finite flow at a valid pixel is refused with
/// ``FlowFileError/nonFinite(file:count:)``.
enum KITTIFlow {
    static func decode(_ data: Data, file: String, limits: ImageLimits) throws(FlowFileError) -> FlowField {
        let raster: RasterImage
        do { raster = try PNGCodec.decode(data, file: file, limits: limits) } catch { throw .image(error) }
        guard raster.bitDepth == 16, raster.channels == 3 else {
            let kind = ["gray", "gray+alpha", "RGB", "RGBA"][raster.channels - 1]
            throw .unsupported(file: file, reason: "a KITTI flow PNG is 16-bit RGB; this one is \(raster.bitDepth)-bit \(kind)")
        }
        let pixels = raster.width * raster.height
        var uv = [Float](repeating: 0, count: 2 * pixels)
        var valid = [Float](repeating: 0, count: pixels)
        raster.samples.withUnsafeBufferPointer { s in
            for i in 0..<pixels {
                uv[2 * i] = (Float(s[3 * i]) - 32768) / 64
                uv[2 * i + 1] = (Float(s[3 * i + 1]) - 32768) / 64
                valid[i] = Float(s[3 * i + 2])
            }
        }
        return FlowField(unchecked: raster.width, raster.height, uv: uv, valid: valid)
    }

    /// The stored 16-bit value of one component: Float32 `64·x + 32768`, truncated, clamped to 0…65535.
    static func quantize(_ x: Float) -> UInt16 {
        let scaled = 64 * x + 32768
        guard scaled > 0 else { return 0 }             // also catches NaN (callers refuse it before)
        guard scaled < 65535 else { return 65535 }
        return UInt16(scaled)                           // Swift's conversion truncates towards zero
    }

    static func encode(_ flow: FlowField, file: String) throws(FlowFileError) -> Data {
        let pixels = flow.width * flow.height
        var samples = [UInt16](repeating: 0, count: 3 * pixels)
        var nonFinite = 0
        for i in 0..<pixels {
            let isValid = flow.valid.map { $0[i] >= 0.5 } ?? true
            var u = flow.uv[2 * i], v = flow.uv[2 * i + 1]
            if !u.isFinite || !v.isFinite {
                if isValid { nonFinite += (u.isFinite ? 0 : 1) + (v.isFinite ? 0 : 1) }
                (u, v) = (0, 0)
            }
            samples[3 * i] = quantize(u)
            samples[3 * i + 1] = quantize(v)
            samples[3 * i + 2] = isValid ? 1 : 0
        }
        guard nonFinite == 0 else { throw .nonFinite(file: file, count: nonFinite) }
        let raster = RasterImage(unchecked: flow.width, flow.height, channels: 3, bitDepth: 16, samples: samples)
        do { return try PNGCodec.encode(raster, file: file) } catch { throw .image(error) }
    }
}
