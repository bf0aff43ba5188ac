import Foundation

/// How much memory a forward pass needs, known before any of it is allocated, so that a caller can choose the
/// on-demand correlation or refuse a frame instead of failing an allocation (which Swift cannot recover from).
public struct MemoryEstimate: Sendable, Hashable, CustomStringConvertible {
    /// Upper bound of the ``Workspace`` the pass grows to, bytes.
    public var workspaceBytes: Int
    /// The frames, the flow and their copies in tensors (`≈ 60` bytes per pixel), bytes.
    public var tensorBytes: Int
    /// The correlation strategy the estimate assumes (``CorrelationMode/allPairs`` or ``CorrelationMode/onDemand``).
    public var correlation: CorrelationMode

    /// Everything together.
    public var totalBytes: Int { workspaceBytes + tensorBytes }

    public var description: String { MemoryEstimate.format(totalBytes) + " (\(correlation) correlation)" }

    /// "1.5 GiB", "340 MiB".
    public static func format(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
                         : String(format: "%.0f MiB", Double(bytes) / Double(1 << 20))
    }
}

extension RAFT {
    /// Workspace bytes per padded pixel, and a constant, besides the correlation volume: a linear fit to
    /// ``Workspace/bytes`` after passes at 512×512 and 1024×1024 (the convolutions' im2col blocks and the encoders'
    /// half-resolution activations dominate), raised by 10 %. `RAFTTests` checks that it bounds the real workspace
    /// from above, and not by more than 2×, at other sizes.
    private var workspaceFit: (perPixel: Double, constant: Double) {
        let mebibyte: Double = 1_048_576
        switch variant {
        case .basic: return (perPixel: 816 * 1.1, constant: 43 * mebibyte * 1.1)
        case .small: return (perPixel: 476 * 1.1, constant: 15 * mebibyte * 1.1)
        }
    }

    /// The memory a forward pass of `samples` pairs of `height × width` frames needs with `correlation`
    /// (``CorrelationMode/automatic(memoryBudget:)`` resolved as the pass would resolve it), plus the feature
    /// maps a ``FlowSequence`` keeps when `sequence` is true.
    public func memoryEstimate(height: Int, width: Int, samples: Int = 1, correlation: CorrelationMode,
                               sequence: Bool = false) -> MemoryEstimate {
        let (h, w) = (max(height, 1), max(width, 1))
        let padder = InputPadder(unchecked: h, w, mode: .sintel, minimumSize: RAFT.minimumSize)
        let paddedPixels = Double(padder.paddedHeight) * Double(padder.paddedWidth)
        let grid = featureEncoder.outputSize(height: padder.paddedHeight, width: padder.paddedWidth)
        let mode = correlation.resolved(samples: samples, height: grid.height, width: grid.width,
                                        levels: configuration.correlationLevels)
        let fit = workspaceFit
        var workspace = fit.constant + fit.perPixel * paddedPixels * Double(samples)
        if mode == .allPairs {
            workspace += Double(CorrelationMode.allPairsBytes(samples: samples, height: grid.height, width: grid.width,
                                                              levels: configuration.correlationLevels))
        }
        if sequence {
            workspace += Double(2 * samples * configuration.featureChannels * grid.height * grid.width * 4)
        }
        let tensors = 60 * Double(h) * Double(w) * Double(samples)
        return MemoryEstimate(workspaceBytes: Int(min(workspace, Double(Int.max / 4))),
                              tensorBytes: Int(min(tensors, Double(Int.max / 4))), correlation: mode)
    }
}
