/// Scratch memory for one forward pass: an arena of named, growable, 64-byte-aligned Float buffers.
///
/// Modules are immutable `Sendable` values that hold only weights; the mutable scratch they need lives
/// here and is created once per call by the caller (e.g. once per ``RAFT`` inference) and reused by every
/// iteration. A buffer reallocates only when a larger size is requested under the same name, so after the
/// first iteration nothing allocates; ``allocations`` counts (re)allocations so tests can prove that.
/// A workspace is used by one thread at a time.
public final class Workspace {
    private struct Slot { var pointer: UnsafeMutablePointer<Float>; var capacity: Int }
    private var slots: [String: Slot] = [:]
    /// Number of buffer (re)allocations so far.
    public private(set) var allocations = 0
    /// Bumped by every ``RAFT`` sequence call that writes feature maps here, so that a handle to features written by
    /// an earlier call (``CarriedFeatures``) can tell they have been overwritten.
    package var featureGeneration = 0

    public init() {}

    /// A buffer of at least `count` floats named `name`; its contents persist between calls with the
    /// same name until it has to grow (then they are unspecified).
    package func buffer(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let s = slots[name], s.capacity >= count { return s.pointer }
        if let s = slots[name] { s.pointer.deallocate() }
        let n = max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: n)
        slots[name] = Slot(pointer: p, capacity: n)
        allocations += 1
        return p
    }

    /// Total bytes held.
    public var bytes: Int { slots.values.reduce(0) { $0 + $1.capacity * 4 } }

    deinit { for s in slots.values { s.pointer.deallocate() } }
}
