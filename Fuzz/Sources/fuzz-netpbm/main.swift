import Foundation
import FuzzSupport
import RAFTKit

// PPM/PGM bytes (P5, P6; other netpbm magics are refused) → RasterImage, then RGBImage.
// Contract: decodes or throws ImageError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetPBM(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let raster = try? RasterImage(data: data, source: "fuzz.ppm", limits: Fuzz.limits) {
        precondition(raster.samples.count == raster.width * raster.height * raster.channels)
        _ = RGBImage(raster)
    }
    return 0
}
