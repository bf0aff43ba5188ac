/// SplitMix64 (Steele, Lea & Flood 2014): a small, seedable generator, and its finaliser `mix` as a counter-based
/// hash. Procedural weights, the receptive-field study and the tests draw their numbers from it, so every value
/// reproduces from its seed (and `Scripts/fixtures/procedural.py` computes the same ones).
package struct SplitMix64: RandomNumberGenerator, Sendable {
    package var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The finaliser: a bijective 64-bit mix.
    @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The golden-ratio increment between consecutive states.
    package static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// FNV-1a (64-bit) of a key's UTF-8 bytes: a stable seed from a parameter name.
    package static func fnv1a64(_ key: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
