import Foundation
import FuzzSupport
import RAFTKit

// PNG bytes (chunk CRCs repaired, see Fuzz.repairingPNGChunkCRCs) → RasterImage through libpng, then the
// conversion to RGBImage that every frame goes through. Contract: decodes or throws ImageError, and a Data slice
// decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let (whole, slice) = Fuzz.dataViews(Fuzz.repairingPNGChunkCRCs(Fuzz.bytes(start, count)))
    let raster = try? RasterImage(data: whole, source: "fuzz.png", limits: Fuzz.limits)
    precondition(raster == (try? RasterImage(data: slice, source: "fuzz.png", limits: Fuzz.limits)))
    if let raster {
        precondition(raster.samples.count == raster.width * raster.height * raster.channels)
        _ = RGBImage(raster)
    }
    return 0
}
