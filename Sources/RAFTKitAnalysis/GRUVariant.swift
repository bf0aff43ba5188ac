import RAFTKit

/// One gated step of a GRU variant: its kernel and dilation (padding is always "same",
/// `dilation·(kernel − 1)/2`, so the step keeps the grid size).
public struct GRUKernel: Sendable, Hashable, Codable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var dilation: Int

    public init(height: Int, width: Int, dilation: Int = 1) {
        precondition(height > 0 && width > 0 && height % 2 == 1 && width % 2 == 1 && dilation > 0,
                     "GRUKernel needs odd positive sizes and a positive dilation")
        self.height = height
        self.width = width
        self.dilation = dilation
    }

    /// The convolution geometry of the step's three gates (stride 1, "same" padding).
    public var geometry: ConvGeometry {
        ConvGeometry(kernel: (height, width), padding: (dilation * (height - 1) / 2, dilation * (width - 1) / 2),
                     dilation: (dilation, dilation))
    }

    /// `3x3`, or `3x3:d2` when dilated.
    public var description: String { dilation == 1 ? "\(height)x\(width)" : "\(height)x\(width):d\(dilation)" }
}

/// A GRU update operator to compare: one gated ConvGRU step (`conv:3x3`, RAFT-S) or a sequence of gated steps
/// that all read the same input (`seq:1x5,5x1`, RAFT's SepConvGRU), as a ``SeqConvGRU``.
///
/// Spec grammar: `conv:HxW[:dD]` or `seq:HxW[:dD],HxW[:dD],…`; kernel sizes are odd (so that "same" padding
/// keeps the grid), at most 31; dilations 1…16. Examples: `conv:3x3`, `conv:5x5`, `conv:3x3:d2`,
/// `seq:1x5,5x1`, `seq:1x3,3x1`, `seq:1x7,7x1`.
public struct GRUVariant: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Whether the spec named a single ConvGRU step (`conv:`) or a sequence (`seq:`).
    public enum Kind: String, Sendable, Hashable, Codable { case conv, seq }

    public var kind: Kind
    /// The gated steps of one GRU iteration, in order.
    public var kernels: [GRUKernel]

    public init(kind: Kind, kernels: [GRUKernel]) {
        precondition(!kernels.isEmpty && (kind == .seq || kernels.count == 1), "GRUVariant: bad kernel list")
        self.kind = kind
        self.kernels = kernels
    }

    /// Largest kernel side and dilation a spec may ask for.
    public static let maximumKernel = 31, maximumDilation = 16, maximumSteps = 8

    /// Parses `conv:3x3`, `conv:3x3:d2`, `seq:1x5,5x1`, … (case-insensitive, blanks ignored).
    public init(parsing spec: String) throws(GRUVariantError) {
        let text = String(spec.lowercased().filter { !$0.isWhitespace })
        guard !text.isEmpty else { throw .empty }
        guard let colon = text.firstIndex(of: ":") else { throw .missingKind(spec: spec) }
        let kindText = String(text[..<colon])
        guard let kind = Kind(rawValue: kindText) else { throw .unknownKind(spec: spec, kind: kindText) }
        let body = text[text.index(after: colon)...]
        guard !body.isEmpty else { throw .noKernel(spec: spec) }
        let stepTexts = body.split(separator: ",", omittingEmptySubsequences: false)
        if kind == .conv && stepTexts.count > 1 { throw .convTakesOneKernel(spec: spec) }
        if stepTexts.count > Self.maximumSteps { throw .tooManySteps(spec: spec, count: stepTexts.count) }
        var kernels: [GRUKernel] = []
        for step in stepTexts {
            guard !step.isEmpty else { throw .noKernel(spec: spec) }
            kernels.append(try Self.parseKernel(String(step), spec: spec))
        }
        self.init(kind: kind, kernels: kernels)
    }

    private static func parseKernel(_ token: String, spec: String) throws(GRUVariantError) -> GRUKernel {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw .badKernel(spec: spec, token: token) }
        let size = parts[0].split(separator: "x", omittingEmptySubsequences: false)
        guard size.count == 2, let h = Int(size[0]), let w = Int(size[1]), h > 0, w > 0 else {
            throw .badKernel(spec: spec, token: token)
        }
        guard h <= maximumKernel && w <= maximumKernel else { throw .kernelTooLarge(spec: spec, token: token) }
        guard h % 2 == 1 && w % 2 == 1 else { throw .evenKernel(spec: spec, token: token) }
        var dilation = 1
        if parts.count == 2 {
            let d = parts[1]
            guard d.first == "d", let value = Int(d.dropFirst()) else { throw .badDilation(spec: spec, token: token) }
            guard value >= 1 && value <= maximumDilation else { throw .badDilation(spec: spec, token: token) }
            dilation = value
        }
        return GRUKernel(height: h, width: w, dilation: dilation)
    }

    /// The canonical spec, e.g. `seq:1x5,5x1` (parses back to an equal variant).
    public var spec: String { "\(kind.rawValue):" + kernels.map(\.description).joined(separator: ",") }
    public var description: String { spec }

    /// A readable name: `ConvGRU 3x3`, `ConvGRU 3x3 d2`, `SeqConvGRU 1x5>5x1`.
    public var name: String {
        let steps = kernels.map { k in k.dilation == 1 ? "\(k.height)x\(k.width)" : "\(k.height)x\(k.width) d\(k.dilation)" }
        return (kind == .conv ? "ConvGRU " : "SeqConvGRU ") + steps.joined(separator: ">")
    }

    /// The gate geometry of each step.
    public var geometries: [ConvGeometry] { kernels.map(\.geometry) }

    // MARK: Well-known variants

    /// RAFT-S's update GRU: one 3×3 ConvGRU step.
    public static let conv3x3 = GRUVariant(kind: .conv, kernels: [GRUKernel(height: 3, width: 3)])
    /// RAFT's SepConvGRU: a 1×5 step then a 5×1 step.
    public static let separable5 = GRUVariant(kind: .seq, kernels: [GRUKernel(height: 1, width: 5), GRUKernel(height: 5, width: 1)])
    /// A thinner separable pair, 1×3 then 3×1.
    public static let separable3 = GRUVariant(kind: .seq, kernels: [GRUKernel(height: 1, width: 3), GRUKernel(height: 3, width: 1)])
    /// A wider separable pair, 1×7 then 7×1.
    public static let separable7 = GRUVariant(kind: .seq, kernels: [GRUKernel(height: 1, width: 7), GRUKernel(height: 7, width: 1)])
    /// One 5×5 ConvGRU step (the dense way to RAFT's per-iteration reach).
    public static let conv5x5 = GRUVariant(kind: .conv, kernels: [GRUKernel(height: 5, width: 5)])
    /// One 3×3 ConvGRU step with dilation 2 (RAFT's reach at RAFT-S's cost, with holes).
    public static let conv3x3Dilated2 = GRUVariant(kind: .conv, kernels: [GRUKernel(height: 3, width: 3, dilation: 2)])

    /// The six variants compared by default: RAFT-S, RAFT, the 1×3 and 1×7 separable pairs, 5×5, 3×3 dilation 2.
    public static let defaults: [GRUVariant] = [conv3x3, separable5, separable3, separable7, conv5x5, conv3x3Dilated2]

    // MARK: Cost

    /// Learnable parameters: per step `3·(hidden·(hidden + input)·kh·kw + hidden)` (PyTorch's count for the
    /// same `nn.Conv2d` modules).
    public func parameterCount(_ channels: GRUChannels) -> Int {
        kernels.reduce(0) { $0 + 3 * (channels.hidden * channels.total * $1.height * $1.width + channels.hidden) }
    }

    /// Multiply-accumulates of the gate convolutions for one GRU iteration on a `height × width` grid (the
    /// element-wise gate arithmetic, a few operations per hidden value, is not counted).
    public func multiplyAccumulates(_ channels: GRUChannels, height: Int, width: Int) -> Int {
        kernels.reduce(0) { $0 + 3 * channels.hidden * channels.total * $1.height * $1.width * height * width }
    }

    /// A GRU of this shape with zero weights.
    public func makeGRU(_ channels: GRUChannels) -> SeqConvGRU {
        SeqConvGRU(hiddenChannels: channels.hidden, inputChannels: channels.input, geometries: geometries)
    }

    /// A GRU of this shape with PyTorch's default `nn.Conv2d` initialisation: weights and biases uniform in
    /// `±1/√fan_in`, `fan_in = (hidden + input)·kh·kw` (kaiming-uniform with a = √5).
    public func randomGRU<G: RandomNumberGenerator>(_ channels: GRUChannels, using rng: inout G) -> SeqConvGRU {
        func conv(_ g: ConvGeometry) -> Conv2d {
            let fanIn = channels.total * g.kernelHeight * g.kernelWidth
            let bound = Float(1 / Double(fanIn).squareRoot())
            let weight = Tensor(uncheckedShape: [channels.hidden, channels.total, g.kernelHeight, g.kernelWidth],
                                values: (0..<(channels.hidden * fanIn)).map { _ in Float.random(in: -bound...bound, using: &rng) })
            let bias = Tensor(uncheckedShape: [channels.hidden],
                              values: (0..<channels.hidden).map { _ in Float.random(in: -bound...bound, using: &rng) })
            return Conv2d(weight: weight, bias: bias, geometry: g)
        }
        return SeqConvGRU(steps: geometries.map { g in ConvGRU(z: conv(g), r: conv(g), q: conv(g)) })
    }
}

/// Channel counts of a GRU: hidden state h and input x (x = context + motion features in RAFT).
public struct GRUChannels: Sendable, Hashable, Codable, CustomStringConvertible {
    public var hidden: Int
    public var input: Int

    public init(hidden: Int, input: Int) {
        precondition(hidden > 0 && input > 0, "GRU channel counts must be positive")
        self.hidden = hidden
        self.input = input
    }

    /// Channels the gate convolutions read, `hidden + input`.
    public var total: Int { hidden + input }

    /// RAFT: hidden 128, input 128 context + 128 motion = 256.
    public static let basic = GRUChannels(hidden: 128, input: 256)
    /// RAFT-S: hidden 96, input 64 context + 82 motion = 146.
    public static let small = GRUChannels(hidden: 96, input: 146)

    public var description: String { "hidden \(hidden), input \(input)" }
}

/// A GRU variant spec that cannot be parsed; each case names the spec and what is wrong with it.
public enum GRUVariantError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case missingKind(spec: String)
    case unknownKind(spec: String, kind: String)
    case noKernel(spec: String)
    case convTakesOneKernel(spec: String)
    case tooManySteps(spec: String, count: Int)
    case badKernel(spec: String, token: String)
    case kernelTooLarge(spec: String, token: String)
    case evenKernel(spec: String, token: String)
    case badDilation(spec: String, token: String)

    private static let grammar = "expected conv:HxW[:dD] or seq:HxW[:dD],HxW[:dD],… (e.g. conv:3x3, conv:3x3:d2, seq:1x5,5x1)"

    public var description: String {
        switch self {
        case .empty:
            return "empty GRU variant spec; \(Self.grammar)"
        case .missingKind(let spec):
            return "GRU variant '\(spec)' has no kind; \(Self.grammar)"
        case .unknownKind(let spec, let kind):
            return "GRU variant '\(spec)': unknown kind '\(kind)' (use 'conv' or 'seq'); \(Self.grammar)"
        case .noKernel(let spec):
            return "GRU variant '\(spec)' has an empty kernel; \(Self.grammar)"
        case .convTakesOneKernel(let spec):
            return "GRU variant '\(spec)': 'conv' takes exactly one kernel; use 'seq:' for a sequence of steps"
        case .tooManySteps(let spec, let count):
            return "GRU variant '\(spec)' has \(count) steps; at most \(GRUVariant.maximumSteps) are supported"
        case .badKernel(let spec, let token):
            return "GRU variant '\(spec)': '\(token)' is not a kernel; write HxW with positive integers, e.g. 3x3 or 1x5"
        case .kernelTooLarge(let spec, let token):
            return "GRU variant '\(spec)': kernel '\(token)' is larger than \(GRUVariant.maximumKernel)"
        case .evenKernel(let spec, let token):
            return "GRU variant '\(spec)': kernel '\(token)' has an even side; sides must be odd so that the GRU keeps the grid size"
        case .badDilation(let spec, let token):
            return "GRU variant '\(spec)': '\(token)' has a bad dilation; write :dN with 1 ≤ N ≤ \(GRUVariant.maximumDilation), e.g. 3x3:d2"
        }
    }
}
