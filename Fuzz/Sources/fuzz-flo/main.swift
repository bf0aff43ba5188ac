import Foundation
import FuzzSupport
import RAFTKit

// Middlebury .flo bytes → FlowField. Contract: decodes or throws FlowFileError, a Data slice decodes as a Data of
// its own does, and a decoded flow survives a round trip through the .flo writer: the same validity mask, the
// same (u, v) at every valid pixel (invalid pixels are written as 10¹⁰, Middlebury's unknown-flow marker).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFlo(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let (whole, slice) = Fuzz.dataViews(Fuzz.bytes(start, count))
    let flow = try? FlowField.decode(whole, format: .middlebury, source: "fuzz.flo", limits: Fuzz.limits)
    precondition(flow == (try? FlowField.decode(slice, format: .middlebury, source: "fuzz.flo", limits: Fuzz.limits)))
    if let flow {
        let again = try! FlowField.decode(try! flow.encoded(as: .middlebury), format: .middlebury, limits: Fuzz.limits)
        precondition(again.width == flow.width && again.height == flow.height && again.valid == flow.valid)
        for i in 0..<flow.width * flow.height where flow.isValid(x: i % flow.width, y: i / flow.width) {
            precondition(again.uv[2 * i] == flow.uv[2 * i] && again.uv[2 * i + 1] == flow.uv[2 * i + 1],
                         ".flo round trip changed a valid pixel's flow")
        }
    }
    return 0
}
