import CCacheControl

/// Cache hints Swift cannot express, through the `CCacheControl` C shim: streaming (non-temporal) stores and
/// prefetches. Both serve the all-pairs correlation pyramid (264 MB at 1024×440), which is far larger than the caches.
enum CacheControl {
    /// Copies `count` floats from `source` to `destination` (not overlapping) with streaming stores, which write whole
    /// cache lines without first reading them from memory and without evicting useful data (a plain copy where the
    /// target has no such stores). They are weakly ordered: call ``streamingFence()`` before another thread may read
    /// `destination`.
    @inline(__always)
    static func streamingCopy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        raftkit_streaming_copy(destination, source, count)
    }

    /// Makes every earlier streaming store of this thread visible before its later stores (x86-64: `sfence`).
    @inline(__always)
    static func streamingFence() { raftkit_streaming_fence() }

    /// Asks the cache to fetch the line at `address` for reading. A hint: it never faults, whatever the address.
    @inline(__always)
    static func prefetch(_ address: UnsafeRawPointer) { raftkit_prefetch(address) }
}
