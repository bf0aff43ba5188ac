import Foundation
import FuzzSupport
import RAFTKit

// PPM/PGM bytes (P5, P6; other netpbm magics are refused) → RasterImage, then RGBImage.
// Contract: decodes or throws ImageError, and a Data slice decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetPBM(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    Fuzz.checkRasterImage(Fuzz.bytes(start, count), source: "fuzz.ppm")
    return 0
}
