/// Aligned, fixed-size Float32 storage shared by ``Tensor`` values (copy-on-write).
///
/// 64-byte alignment keeps AVX-512 loads aligned and lets BLAS use its fast paths.
package final class TensorStorage: @unchecked Sendable {
    package let count: Int
    package let pointer: UnsafeMutablePointer<Float>

    /// Zero-filled storage of `count` floats.
    package convenience init(count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Storage whose contents are unspecified: for a producer that writes every element before anything reads
    /// one (weight decoding, weight transforms), so that the pages are touched once, by the producer, not first
    /// by a `memset`.
    package init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage count must be non-negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    package func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }

    deinit { pointer.deallocate() }
}
