/// Why a ``Tensor`` operation or a layer's forward pass refused its arguments. Every case carries what was
/// expected and what was found.
public enum TensorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A shape has a negative dimension, or more elements than `Int` can count.
    case invalidShape([Int])
    /// `init(shape:values:)` got `found` values for a shape of `expected` elements.
    case valueCount(shape: [Int], expected: Int, found: Int)
    /// `reshaped(_:)` to a shape of another element count.
    case reshape(from: [Int], to: [Int])
    /// An argument (`argument` names it) has shape `found`; `expected` describes the shapes accepted
    /// (e.g. "[N, 2, h, w]" or "[1, 3, 8, 8]").
    case shapeMismatch(argument: String, expected: String, found: [Int])
    /// A channel range outside `0..<channels`.
    case channelRange(Range<Int>, channels: Int)
    /// An operation that needs at least one tensor got none.
    case empty(argument: String)
    /// A non-tensor argument out of its range: `expected` states the range.
    case invalidArgument(String, expected: String, found: Int)

    public var description: String {
        switch self {
        case let .invalidShape(shape):
            "shape \(shape) has a negative dimension or too many elements"
        case let .valueCount(shape, expected, found):
            "shape \(shape) needs \(expected) values, got \(found)"
        case let .reshape(from, to):
            "cannot reshape \(from) (\(Tensor.product(from) ?? -1) elements) to \(to) (\(Tensor.product(to).map { "\($0)" } ?? "invalid"))"
        case let .shapeMismatch(argument, expected, found):
            "\(argument) has shape \(found), expected \(expected)"
        case let .channelRange(range, channels):
            "channel range \(range) is outside 0..<\(channels)"
        case let .empty(argument):
            "\(argument) is empty"
        case let .invalidArgument(argument, expected, found):
            "\(argument) is \(found), expected \(expected)"
        }
    }
}

extension Tensor {
    /// The element count of `shape`, or nil when a dimension is negative or the product overflows `Int`.
    static func product(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            count = p
        }
        return count
    }

    /// The element count of `shape`.
    /// - Throws: ``TensorError/invalidShape(_:)`` for a negative dimension or an element count beyond `Int`.
    public static func elementCount(of shape: [Int]) throws(TensorError) -> Int {
        guard let count = product(shape) else { throw .invalidShape(shape) }
        return count
    }

    /// Throws ``TensorError/shapeMismatch(argument:expected:found:)``, naming `argument`, unless `tensor` has one
    /// dimension per entry of `expected` and each matches (a nil entry matches any extent).
    static func check(_ tensor: Tensor, _ argument: String, _ expected: [Int?]) throws(TensorError) {
        let matches = tensor.rank == expected.count
            && zip(tensor.shape, expected).allSatisfy { d, e in e.map { $0 == d } ?? true }
        guard matches else {
            let text = "[" + expected.enumerated().map { i, e in
                e.map(String.init) ?? (expected.count == 4 ? ["N", "C", "h", "w"][i] : "_")
            }.joined(separator: ", ") + "]"
            throw .shapeMismatch(argument: argument, expected: text, found: tensor.shape)
        }
    }
}
