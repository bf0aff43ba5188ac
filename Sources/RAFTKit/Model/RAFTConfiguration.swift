/// The two RAFT architectures of the paper (core/raft.py, `RAFT.__init__`, with and without `args.small`).
public enum RAFTVariant: String, Sendable, CaseIterable, Codable {
    /// RAFT: 5.3 M parameters, SepConvGRU (1×5 then 5×1), convex upsampling.
    case basic
    /// RAFT-S: 1.0 M parameters, 3×3 ConvGRU, bilinear upsampling.
    case small
}

/// Sizes of a RAFT network. Defaults reproduce the official models exactly.
public struct RAFTConfiguration: Sendable, Hashable, Codable {
    public var variant: RAFTVariant
    /// GRU hidden state channels (hdim): 128 basic, 96 small.
    public var hiddenChannels: Int
    /// Context feature channels (cdim): 128 basic, 64 small.
    public var contextChannels: Int
    /// Feature encoder output channels D: 256 basic, 128 small.
    public var featureChannels: Int
    /// Correlation pyramid levels L (4).
    public var correlationLevels: Int
    /// Look-up radius r: 4 basic, 3 small.
    public var correlationRadius: Int

    /// Channels of one correlation look-up, `L·(2r+1)²` (324 basic, 196 small).
    public var correlationChannels: Int { correlationLevels * (2 * correlationRadius + 1) * (2 * correlationRadius + 1) }

    /// The official RAFT (`raft-things.pth` and friends).
    public static let basic = RAFTConfiguration(variant: .basic, hiddenChannels: 128, contextChannels: 128,
                                                featureChannels: 256, correlationLevels: 4, correlationRadius: 4)
    /// The official RAFT-S (`raft-small.pth`).
    public static let small = RAFTConfiguration(variant: .small, hiddenChannels: 96, contextChannels: 64,
                                                featureChannels: 128, correlationLevels: 4, correlationRadius: 3)

    public static func `for`(_ variant: RAFTVariant) -> RAFTConfiguration { variant == .basic ? .basic : .small }
}
