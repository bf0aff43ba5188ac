import FuzzSupport
import RAFTKit

// PyTorch zip checkpoint bytes → WeightsLoader.decode (zip container, pickle, storages, key canonicalisation).
// Entry CRCs are checked by the reader, so mutations mostly exercise the container; the pickle target
// reaches the unpickler. Contract: decodes or throws WeightsError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = try? WeightsLoader.decode(Fuzz.bytes(start, count), source: "fuzz.pth")
    return 0
}
