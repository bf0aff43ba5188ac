/// Why ``FlowWarp`` or ``FlowOcclusion`` refused their inputs.
public enum FlowWarpError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Two inputs that must have the same size do not (e.g. the image and the flow).
    case sizeMismatch(first: String, firstWidth: Int, firstHeight: Int, second: String, secondWidth: Int, secondHeight: Int)
    /// An argument is outside its domain (a negative threshold, a wrongly sized buffer…).
    case invalidArgument(name: String, reason: String)

    public var description: String {
        switch self {
        case let .sizeMismatch(a, aw, ah, b, bw, bh):
            "'\(b)' is \(bw)x\(bh) but '\(a)' is \(aw)x\(ah); they must be the same size"
        case let .invalidArgument(name, reason): "invalid \(name): \(reason)"
        }
    }
}
