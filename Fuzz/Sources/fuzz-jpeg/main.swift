import Foundation
import FuzzSupport
import RAFTKit

// JPEG bytes (libjpeg-turbo through CJPEGCodec: baseline, progressive, gray, CMYK/YCCK, EXIF orientation)
// → RasterImage, then RGBImage.
// Contract: decodes or throws ImageError, and a Data slice decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    Fuzz.checkRasterImage(Fuzz.bytes(start, count), source: "fuzz.jpg")
    return 0
}
