import RAFTKit

/// Why a receptive-field measurement refused its arguments: `argument` names it, `expected` states the accepted
/// values and `found` what was given.
public enum AnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidArgument(String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .invalidArgument(argument, expected, found): "\(argument) is \(found), expected \(expected)"
        }
    }

    /// Throws unless `value ≥ minimum`.
    static func require(_ argument: String, _ value: Int, atLeast minimum: Int) throws(AnalysisError) {
        guard value >= minimum else { throw .invalidArgument(argument, expected: "at least \(minimum)", found: "\(value)") }
    }
}

extension GRUVariant {
    /// Throws unless the variant is one `init(parsing:)` could give: one kernel for `conv`, 1…``maximumSteps`` for
    /// `seq`, odd kernel sides and positive dilations (its properties are mutable and `Codable`, so a value may
    /// have been changed after its initialiser checked it).
    func validate() throws(AnalysisError) {
        guard !kernels.isEmpty && kernels.count <= Self.maximumSteps && (kind == .seq || kernels.count == 1) else {
            throw .invalidArgument("GRU variant \(spec)", expected: "one kernel (conv) or 1…\(Self.maximumSteps) (seq)",
                                   found: "\(kernels.count) kernels")
        }
        for k in kernels where !(k.height > 0 && k.width > 0 && k.height % 2 == 1 && k.width % 2 == 1 && k.dilation > 0) {
            throw .invalidArgument("GRU kernel", expected: "odd positive sides and a positive dilation", found: "\(k)")
        }
    }
}

extension GRUChannels {
    /// Throws unless both channel counts are positive.
    func validate() throws(AnalysisError) {
        try AnalysisError.require("hidden channels", hidden, atLeast: 1)
        try AnalysisError.require("input channels", input, atLeast: 1)
    }
}
