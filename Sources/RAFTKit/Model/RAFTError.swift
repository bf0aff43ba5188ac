/// Why ``RAFT`` refused its inputs. Every case says which input and what was expected.
public enum RAFTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An input tensor has the wrong rank or channel count (`input` is "image1", "image2" or "flowInit").
    case invalidShape(input: String, shape: [Int], expected: String)
    /// The two frames differ in batch size or image size.
    case frameSizeMismatch(image1: [Int], image2: [Int])
    /// An input holds NaN or infinity at `index` (`[n, c, y, x]`).
    case nonFinite(input: String, index: [Int])
    /// The number of update iterations must be at least 1.
    case invalidIterations(Int)
    /// The network's output holds NaN or infinity although its inputs were finite: some activation overflowed
    /// Float, which extreme weights (or extreme frames) cause.
    case nonFiniteOutput

    public var description: String {
        switch self {
        case let .invalidShape(input, shape, expected):
            "\(input) has shape \(shape), expected \(expected)"
        case let .frameSizeMismatch(a, b):
            "the frames differ in size: image1 is \(a), image2 is \(b)"
        case let .nonFinite(input, index):
            "\(input) contains NaN or infinity at \(index)"
        case let .invalidIterations(n):
            "iterations must be at least 1, got \(n)"
        case .nonFiniteOutput:
            "the network's output contains NaN or infinity: its weights (or the frames) hold values too large for Float arithmetic"
        }
    }
}
