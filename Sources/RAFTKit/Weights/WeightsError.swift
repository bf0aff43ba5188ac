/// Why a weight file or a parameter set could not be used. Every case names the file it concerns.
public enum WeightsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// The file's structure is damaged or not of the expected format.
    case corrupt(file: String, reason: String)
    /// A tensor is stored in a data type RAFTKit cannot convert.
    case unsupportedDataType(file: String, key: String, dataType: String)
    /// A parameter the model needs is absent.
    case missingKey(file: String, key: String)
    /// Parameters the model does not use (usually weights of another model).
    case unexpectedKeys(file: String, keys: [String])
    /// A parameter has another shape than the model expects.
    case shapeMismatch(file: String, key: String, expected: [Int], found: [Int])
    /// A parameter holds NaN or infinity.
    case nonFinite(file: String, key: String)
    /// A PyTorch pickle names a global outside the state-dict whitelist; nothing was executed.
    case forbiddenGlobal(file: String, name: String)
    /// The weights describe a model RAFTKit does not know.
    case unknownModel(file: String, reason: String)
    /// A parameter's shape has a negative dimension or more elements than `Int` counts.
    case invalidShape(file: String, key: String, shape: [Int])

    public var description: String {
        switch self {
        case let .unreadable(f, r): "\(f): cannot read weights: \(r)"
        case let .corrupt(f, r): "\(f): corrupt weight file: \(r)"
        case let .unsupportedDataType(f, k, t): "\(f): tensor '\(k)' has unsupported data type \(t)"
        case let .missingKey(f, k): "\(f): missing parameter '\(k)'"
        case let .unexpectedKeys(f, ks):
            "\(f): \(ks.count) unexpected parameter(s): \(ks.prefix(5).joined(separator: ", "))\(ks.count > 5 ? ", …" : "")"
        case let .shapeMismatch(f, k, e, found): "\(f): parameter '\(k)' has shape \(found), expected \(e)"
        case let .nonFinite(f, k): "\(f): parameter '\(k)' contains NaN or infinity"
        case let .forbiddenGlobal(f, n): "\(f): refusing to load: pickle references '\(n)', which is not allowed in a state_dict"
        case let .unknownModel(f, r): "\(f): not a RAFT checkpoint: \(r)"
        case let .invalidShape(f, k, shape): "\(f): parameter '\(k)' has invalid shape \(shape)"
        }
    }
}
