import FuzzSupport
import RAFTKit

// safetensors bytes → WeightsLoader.decode (header, JSON, offsets, conversion, key canonicalisation).
// Contract: decodes or throws WeightsError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = try? WeightsLoader.decode(Fuzz.bytes(start, count), source: "fuzz.safetensors")
    return 0
}
