import Foundation
import FuzzSupport
import RAFTKit

// PNG bytes (chunk CRCs repaired, see Fuzz.repairingPNGChunkCRCs) → RasterImage through libpng, then the
// conversion to RGBImage that every frame goes through. Contract: decodes or throws ImageError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(Fuzz.repairingPNGChunkCRCs(Fuzz.bytes(start, count)))
    if let raster = try? RasterImage(data: data, source: "fuzz.png", limits: Fuzz.limits) {
        precondition(raster.samples.count == raster.width * raster.height * raster.channels)
        _ = RGBImage(raster)
    }
    return 0
}
