import CStreamingStore

/// Copies that bypass the cache: non-temporal stores, through the `CStreamingStore` C shim (Swift cannot emit them).
///
/// For large outputs written once and read back much later, such as the all-pairs correlation pyramid (264 MB at
/// 1024×440): an ordinary store first reads each cache line from memory, then writes it back, and evicts useful
/// data on the way. A streaming store writes whole lines directly. On targets without them the copy is `memcpy`.
enum StreamingStore {
    /// Copies `count` floats from `source` to `destination` (not overlapping) with streaming stores. They are weakly
    /// ordered: call ``fence()`` before another thread may read `destination`.
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        raftkit_streaming_copy(destination, source, count)
    }

    /// Makes every earlier streaming store of this thread visible before its later stores (x86-64: `sfence`).
    @inline(__always)
    static func fence() { raftkit_streaming_fence() }
}
