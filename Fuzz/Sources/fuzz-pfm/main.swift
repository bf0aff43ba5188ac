import Foundation
import FuzzSupport
import RAFTKit

// PFM bytes → FlowField. Contract: decodes or throws FlowFileError, a Data slice decodes as a Data of its own
// does, and a decoded flow survives a round trip through the PFM writer unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPFM(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let (whole, slice) = Fuzz.dataViews(Fuzz.bytes(start, count))
    let flow = try? FlowField.decode(whole, format: .pfm, source: "fuzz.pfm", limits: Fuzz.limits)
    precondition(flow == (try? FlowField.decode(slice, format: .pfm, source: "fuzz.pfm", limits: Fuzz.limits)))
    if let flow {
        let again = try! FlowField.decode(try! flow.encoded(as: .pfm), format: .pfm, limits: Fuzz.limits)
        precondition(again.uv == flow.uv, "PFM round trip changed the flow")
    }
    return 0
}
