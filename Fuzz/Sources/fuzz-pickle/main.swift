import FuzzSupport
import RAFTKit

// The restricted unpickler and the storage tables of both checkpoint formats. The first input byte picks the
// container: even → a legacy checkpoint (Fuzz.legacyHeader, then the rest of the input: object pickle, storage
// key list, storages); odd → a well-formed zip checkpoint whose data.pkl is the rest of the input
// (Fuzz.zipCheckpoint). Contract: decodes or throws WeightsError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = Fuzz.bytes(start, count)
    guard let selector = input.first else { return 0 }
    let file = selector & 1 == 0 ? Fuzz.legacyHeader + input.dropFirst() : Fuzz.zipCheckpoint(pickle: input.dropFirst())
    _ = try? WeightsLoader.decode(file, source: "fuzz.pth")
    return 0
}
