import Foundation
import FuzzSupport
import RAFTKit

// PNG bytes (chunk CRCs repaired, see Fuzz.repairingPNGChunkCRCs) → RasterImage through libpng, then the
// conversion to RGBImage that every frame goes through. Contract: decodes or throws ImageError, and a Data slice
// decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    Fuzz.checkRasterImage(Fuzz.repairingPNGChunkCRCs(Fuzz.bytes(start, count)), source: "fuzz.png")
    return 0
}
