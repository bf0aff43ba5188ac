/// A growable scratch buffer owned by one module (not shared between threads).
///
/// It reallocates only when a larger size is requested, so after the first iteration of RAFT's loop no
/// convolution allocates. One model instance is therefore meant to be used by one thread at a time.
package final class Workspace {
    package private(set) var capacity = 0
    private var storage: UnsafeMutablePointer<Float>?
    /// Number of (re)allocations so far; the iteration-loop allocation test reads it.
    package private(set) var allocations = 0

    package init() {}

    /// A buffer of at least `count` floats; its contents are unspecified.
    package func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity || storage == nil {
            storage?.deallocate()
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
            storage = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            capacity = max(count, 1)
            allocations += 1
        }
        return storage!
    }

    deinit { storage?.deallocate() }
}
