import Foundation
import Testing
@testable import RAFTKit

/// Parity fixtures written by `Scripts/fixtures/*.py` from PyTorch (float32, fixed seeds), stored as
/// safetensors under `Tests/RAFTKitTests/Fixtures/`.
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)
            ?? Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name)")
    }

    static func load(_ name: String) throws -> StateDict {
        try SafeTensors.read(contentsOf: url(name))
    }
}

extension StateDict {
    /// The tensor under `key`, or a test failure naming the key.
    func require(_ key: String) throws -> Tensor {
        guard let t = tensors[key] else { throw FixtureError.missing(key, source) }
        return t
    }
}

enum FixtureError: Error { case missing(String, String) }

/// Deterministic pseudo-random numbers for tests, so failures reproduce.
typealias SeededGenerator = SplitMix64

extension Tensor {
    /// Uniform random values in `range`.
    static func random(_ shape: [Int], in range: ClosedRange<Float> = -1...1, using rng: inout SeededGenerator) -> Tensor {
        Tensor(uncheckedShape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &rng) })
    }

    /// Mean absolute difference to `other`.
    func meanAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape)
        var s: Double = 0
        for i in 0..<count { s += Double(abs(pointer[i] - other.pointer[i])) }
        return Float(s / Double(max(count, 1)))
    }

    /// Largest |a−b| / max(1, |b|) (relative for large values, absolute near zero).
    func maxRelativeDifference(_ reference: Tensor) -> Float {
        precondition(shape == reference.shape)
        var m: Float = 0
        for i in 0..<count { m = max(m, abs(pointer[i] - reference.pointer[i]) / max(1, abs(reference.pointer[i]))) }
        return m
    }
}
