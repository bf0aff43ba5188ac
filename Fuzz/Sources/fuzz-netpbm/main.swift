import Foundation
import FuzzSupport
import RAFTKit

// PPM/PGM bytes (P5, P6; other netpbm magics are refused) → RasterImage, then RGBImage.
// Contract: decodes or throws ImageError, and a Data slice decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetPBM(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let (whole, slice) = Fuzz.dataViews(Fuzz.bytes(start, count))
    let raster = try? RasterImage(data: whole, source: "fuzz.ppm", limits: Fuzz.limits)
    precondition(raster == (try? RasterImage(data: slice, source: "fuzz.ppm", limits: Fuzz.limits)))
    if let raster {
        precondition(raster.samples.count == raster.width * raster.height * raster.channels)
        _ = RGBImage(raster)
    }
    return 0
}
