/// Scratch memory for forward passes, reused between calls on one thread.
///
/// Modules are immutable `Sendable` values that hold only weights; the mutable memory they need lives here.
/// Each module declares its scratch as a struct of pointers whose fields carry their shapes (for example
/// ``ConvGRU``'s `Scratch`: the gates z, r, q `[hidden, h, w]`, the padded `[h, x]` planes …) and lays it out in
/// one function, `scratch(…)`, from one of the blocks below (llm.c's `ActivationTensors` and
/// `fill_in_activation_sizes`). A block grows only when a layout needs more than it holds, so after the first
/// iteration nothing allocates; ``allocations`` counts the growths so tests can prove that.
///
/// Which modules share memory is decided here and nowhere else: modules that carve the same block never hold
/// its pointers at the same time.
public final class Workspace {
    /// ``RAFT``'s per-call state: padded frame, feature maps, hidden state, context, coordinates, the
    /// correlation pyramid, the loop's flow buffers.
    package let raft = ScratchBuffer()
    /// Every ``Conv2d`` (padded input, im2col blocks, Winograd bands, shifted-GEMM outputs): layers run one at a
    /// time, and a convolution holds nothing after it returns.
    package let convolution = ScratchBuffer()
    /// ``FeatureEncoder``'s two ping-pong activations.
    package let encoder = ScratchBuffer()
    /// The residual and bottleneck blocks inside the encoder (their branches and shortcut), one block at a time.
    package let encoderBlock = ScratchBuffer()
    /// ``UpdateBlock``'s motion features and, when called without one, its context cache.
    package let update = ScratchBuffer()
    /// ``MotionEncoder``'s concatenated `[cor, flo]` features and its ping-pong intermediates.
    package let motionEncoder = ScratchBuffer()
    /// ``ConvGRU`` (gates, padded `[h, x]`, Winograd bands), one step at a time.
    package let gru = ScratchBuffer()
    /// The hidden layer of ``FlowHead`` and of ``MaskHead``, which run one after the other: switching the mask
    /// head on in the last iteration needs no new memory.
    package let heads = ScratchBuffer()
    /// The correlation pyramid's per-thread GEMM tiles.
    package let correlationTiles = ScratchBuffer()
    /// A stand-alone ``Correlation`` call's pyramid.
    package let correlation = ScratchBuffer()
    /// A bidirectional estimate's feature maps of both frames, `[N, D, h, w]` each: computed by the forward pass,
    /// read again by the backward pass.
    package let bidirectionalFeatures = (ScratchBuffer(), ScratchBuffer())
    /// ``RAFT/forwardInterpolate(_:)``'s splatting buckets.
    package let forwardInterpolation = ScratchBuffer()
    /// The receptive-field study's tangent (Jacobian-vector product) buffers.
    package let analysis = ScratchBuffer()

    private var blocks: [ScratchBuffer] {
        [raft, convolution, encoder, encoderBlock, update, motionEncoder, gru, heads, correlationTiles, correlation,
         forwardInterpolation, analysis]
    }

    /// How the convolutions' GEMMs of the pass using this workspace are computed; set by ``RAFT`` from
    /// ``RAFTOptions/precision`` at the start of each forward pass (float32 for a layer called on its own).
    package var arithmetic: GEMMArithmetic = .float32

    public init() {}

    /// Number of block (re)allocations so far.
    public var allocations: Int { blocks.reduce(0) { $0 + $1.allocations } }

    /// Total bytes held.
    public var bytes: Int { blocks.reduce(0) { $0 + $1.capacity * MemoryLayout<Float>.stride } }
}

/// One growable, 64-byte-aligned block of floats, carved into a module's typed scratch.
package final class ScratchBuffer {
    private var base: UnsafeMutablePointer<Float>
    /// Floats held.
    package private(set) var capacity = 0
    /// Number of (re)allocations so far.
    package private(set) var allocations = 0

    package init() {
        base = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64).bindMemory(to: Float.self, capacity: 16)
    }

    deinit { base.deallocate() }

    /// Lays out a module's scratch in this block and returns it. `layout` takes each field's floats from the
    /// carver in order; it is called twice, to measure and then to place, and must ask for the same sizes both
    /// times. The block grows (losing its contents) only when the layout needs more than it holds.
    @inline(__always)
    package func carve<Scratch>(_ layout: (inout ScratchCarver) -> Scratch) -> Scratch {
        var measure = ScratchCarver(base: base)
        _ = layout(&measure)
        if measure.count > capacity { grow(to: measure.count) }
        var place = ScratchCarver(base: base)
        return layout(&place)
    }

    /// The first `count` floats of the block, whose contents persist between calls that ask for no more.
    package func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity { grow(to: count) }
        return base
    }

    private func grow(to count: Int) {
        base.deallocate()
        base = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        capacity = count
        allocations += 1
    }
}

/// Hands out consecutive, 64-byte-aligned pieces of a ``ScratchBuffer`` (see ``ScratchBuffer/carve(_:)``).
package struct ScratchCarver {
    private let base: UnsafeMutablePointer<Float>
    /// Floats taken so far, with alignment padding.
    package private(set) var count = 0

    init(base: UnsafeMutablePointer<Float>) { self.base = base }

    /// The next `floats` floats. While measuring, the pointer lies past the block's end: it is never read.
    package mutating func take(_ floats: Int) -> UnsafeMutablePointer<Float> {
        defer { count += (max(floats, 0) + 15) & ~15 }
        return base + count
    }
}
