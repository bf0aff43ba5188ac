import Foundation
import FuzzSupport
import RAFTKit

// JPEG bytes (libjpeg-turbo through CJPEGCodec: baseline, progressive, gray, CMYK/YCCK, EXIF orientation)
// → RasterImage, then RGBImage.
// Contract: decodes or throws ImageError, and a Data slice decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let (whole, slice) = Fuzz.dataViews(Fuzz.bytes(start, count))
    let raster = try? RasterImage(data: whole, source: "fuzz.jpg", limits: Fuzz.limits)
    precondition(raster == (try? RasterImage(data: slice, source: "fuzz.jpg", limits: Fuzz.limits)))
    if let raster {
        precondition(raster.samples.count == raster.width * raster.height * raster.channels)
        _ = RGBImage(raster)
    }
    return 0
}
