/// The skip connection of RAFT's residual and bottleneck blocks: identity at stride 1, otherwise
/// `downsample` = a strided 1×1 convolution (`downsample.0`) and a norm (`downsample.1`), then
/// `output = ReLU(output + shortcut(input))`.
struct Shortcut: Sendable {
    /// `downsample.0` and `downsample.1`; nil for the identity.
    let downsample: (conv: Conv2d, norm: NormLayer)?

    /// Reads `prefix.downsample.0/1` when `stride > 1`. The official checkpoints also store the shortcut norm
    /// under `prefix.<alias>` (`norm3` for residual, `norm4` for bottleneck blocks); either copy is accepted.
    init(parameters: ParameterReader, prefix: String, inputChannels: Int, planes: Int, stride: Int,
         normalization: Normalization, groups: Int, alias: String) throws(WeightsError) {
        guard stride > 1 else {
            precondition(inputChannels == planes, "a stride-1 block keeps its channel count")
            downsample = nil
            return
        }
        let conv = try parameters.conv(prefix + ".downsample.0", inputChannels: inputChannels, outputChannels: planes,
                                       geometry: ConvGeometry(square: 1, stride: stride, padding: 0))
        let norm = try NormLayer.shortcut(normalization, channels: planes, groups: groups, parameters: parameters,
                                          prefix: prefix, alias: alias)
        downsample = (conv, norm)
    }

    /// Whether the shortcut is the input itself (no downsampling convolution).
    var isIdentity: Bool { downsample == nil }

    var parameterCount: Int { downsample.map { $0.conv.parameterCount + $0.norm.parameterCount } ?? 0 }

    /// `output = ReLU(output + shortcut(input))` for one sample.
    /// - Parameters:
    ///   - input: the block's input `[inputChannels, height, width]`.
    ///   - output: the residual branch `[planes, pixels]`, updated in place.
    ///   - scratch: `[planes, pixels]` for the downsampled input (unused when ``isIdentity``).
    func add(_ input: UnsafePointer<Float>, height: Int, width: Int, to output: UnsafeMutablePointer<Float>,
             channels: Int, pixels: Int, scratch: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let count = channels * pixels
        var shortcut = input
        if let downsample {
            let s = scratch
            downsample.conv.forward(input, height: height, width: width, output: s, workspace: workspace)
            downsample.norm.apply(s, pixels: pixels, relu: false)
            shortcut = UnsafePointer(s)
        }
        let source = shortcut
        Parallel.forEach(count, minimumChunk: 16384, context: (output, source)) { add, part in
            let (output, source) = add
            for i in part { output[i] = max(output[i] + source[i], 0) }
        }
    }
}

extension NormLayer {
    /// The norm of a stride-2 shortcut: `prefix.downsample.1`, or (if only that is present) the official
    /// alias `prefix.<alias>`; the other copy, when both exist, is marked as read.
    static func shortcut(_ kind: Normalization, channels: Int, groups: Int, parameters: ParameterReader,
                         prefix: String, alias: String) throws(WeightsError) -> NormLayer {
        let main = prefix + ".downsample.1", duplicate = prefix + "." + alias
        let useAlias = !parameters.contains(main + ".weight") && parameters.contains(duplicate + ".weight")
        let norm = try NormLayer(kind, channels: channels, groups: groups, parameters: parameters,
                                 prefix: useAlias ? duplicate : main)
        let ignored = (useAlias ? main : duplicate) + "."
        parameters.ignore { $0.hasPrefix(ignored) }
        return norm
    }
}
