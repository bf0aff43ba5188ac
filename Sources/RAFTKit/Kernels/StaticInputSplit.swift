/// A ``ConvGRU``'s weights split for an input `x = [s, d]` whose first channels `s` stay the same at every
/// iteration (RAFT's context features) while `d` changes (the motion features).
///
/// Convolution is linear, so every gate's pre-activation is `W_s ∗ s + b` (fixed) plus
/// `W_[h,d] ∗ [h, d]` (per iteration). The fixed part of all three gates is computed once per image
/// pair by one GEMM (``ConvGRU/prepareStaticInput(_:height:width:output:workspace:)``), and each step then
/// multiplies only the hidden and dynamic rows: for RAFT that removes 128 of 384 input channels (a third of
/// the GRU's work) and the context's padded copy from every iteration. Exact up to float rounding (the sums are
/// only re-associated).
package struct StaticInputSplit: Sendable {
    /// Leading input channels that are constant over iterations.
    package let staticChannels: Int
    /// `[W_z; W_r; W_q]` restricted to the static channels, with the three biases: `3·hidden` outputs.
    let staticGates: Conv2d
    /// `[W_z; W_r]` restricted to the hidden and dynamic channels, prepared for the GRU's gate algorithm,
    /// `[P, 2·hidden, hidden + dynamic]`.
    let zrDynamic: Tensor
    /// `W_q` restricted the same way, `[P, hidden, hidden + dynamic]`.
    let qDynamic: Tensor

    init(gru: ConvGRU, staticChannels: Int) {
        precondition(staticChannels > 0 && staticChannels < gru.inputChannels,
                     "static channels must be a proper, non-empty prefix of the GRU input")
        let hid = gru.hiddenChannels, taps = gru.geometry.kernelHeight * gru.geometry.kernelWidth
        let cin = hid + gru.inputChannels
        func columns(of conv: Conv2d, channels: [Range<Int>]) -> [Float] {
            var out: [Float] = []
            let w = conv.weight.pointer
            for o in 0..<conv.outputChannels {
                for range in channels {
                    let start = (o * cin + range.lowerBound) * taps
                    out.append(contentsOf: UnsafeBufferPointer(start: w + start, count: range.count * taps))
                }
            }
            return out
        }
        let staticRange = [hid..<(hid + staticChannels)], dynamicRanges = [0..<hid, (hid + staticChannels)..<cin]
        let gates = [gru.z, gru.r, gru.q]
        let staticWeights = gates.flatMap { columns(of: $0, channels: staticRange) }
        let staticBias = gates.flatMap { $0.bias.scalars }
        self.staticChannels = staticChannels
        staticGates = Conv2d(weight: Tensor(uncheckedShape: [3 * hid, staticChannels, gru.geometry.kernelHeight, gru.geometry.kernelWidth],
                                            values: staticWeights),
                             bias: Tensor(uncheckedShape: [3 * hid], values: staticBias), geometry: gru.geometry)
        (zrDynamic, qDynamic) = ConvGRU.prepare(zr: gru.zr.weight, q: gru.q.weight, channels: dynamicRanges,
                                                algorithm: gru.gateAlgorithm)
    }
}

extension ConvGRU {
    /// Floats of the precomputed static contribution for one sample: `3·hidden·height·width`.
    package func staticContributionCount(height: Int, width: Int) -> Int { 3 * hiddenChannels * height * width }

    /// Computes `[W_z; W_r; W_q]_static ∗ s + biases` for one sample, once per image pair.
    /// - Parameters:
    ///   - input: the static input channels s, `[staticChannels, height, width]`.
    ///   - output: `[3·hiddenChannels, height, width]` (z, r, q pre-activations).
    package func prepareStaticInput(_ input: UnsafePointer<Float>, height: Int, width: Int,
                                   output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        guard let split = staticSplit else { preconditionFailure("this ConvGRU has no static input split") }
        split.staticGates.forward(input, height: height, width: width, output: output, workspace: workspace)
    }

    /// One step with a precomputed static contribution, updating `hidden` in place; allocation-free once the
    /// workspace's "gru.*" buffers have grown.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, height, width]`, replaced by h'.
    ///   - dynamicInput: d, `[inputChannels − staticChannels, height, width]`.
    ///   - staticContribution: from ``prepareStaticInput(_:height:width:output:workspace:)``.
    package func step(hidden: UnsafeMutablePointer<Float>, dynamicInput: UnsafePointer<Float>,
                     staticContribution: UnsafePointer<Float>, height: Int, width: Int, workspace: Workspace) {
        guard let split = staticSplit else { preconditionFailure("this ConvGRU has no static input split") }
        let (zGate, _, qGate) = gates(hidden: hidden, input: dynamicInput,
                                      inputChannels: inputChannels - split.staticChannels,
                                      zrWeights: split.zrDynamic, qWeights: split.qDynamic,
                                      preactivation: staticContribution, height: height, width: width,
                                      workspace: workspace)
        Self.blend(hidden: hidden, z: zGate, q: qGate, count: hiddenChannels * height * width)
    }
}

extension SeqConvGRU {
    /// Floats of the precomputed static contribution of all steps for one sample.
    package func staticContributionCount(height: Int, width: Int) -> Int {
        steps.reduce(0) { $0 + $1.staticContributionCount(height: height, width: width) }
    }

    /// The static contribution of every step, one after another in `output`.
    package func prepareStaticInput(_ input: UnsafePointer<Float>, height: Int, width: Int,
                                   output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        var offset = 0
        for s in steps {
            s.prepareStaticInput(input, height: height, width: width, output: output + offset, workspace: workspace)
            offset += s.staticContributionCount(height: height, width: width)
        }
    }

    /// Every step with its precomputed static contribution (see ``ConvGRU/step(hidden:dynamicInput:staticContribution:height:width:workspace:)``).
    package func step(hidden: UnsafeMutablePointer<Float>, dynamicInput: UnsafePointer<Float>,
                     staticContribution: UnsafePointer<Float>, height: Int, width: Int, workspace: Workspace) {
        var offset = 0
        for s in steps {
            s.step(hidden: hidden, dynamicInput: dynamicInput, staticContribution: staticContribution + offset,
                   height: height, width: width, workspace: workspace)
            offset += s.staticContributionCount(height: height, width: width)
        }
    }

    /// The same sequence with every step split for `channels` static leading input channels.
    package func splittingStaticInput(channels: Int) -> SeqConvGRU {
        SeqConvGRU(steps: steps.map { $0.splittingStaticInput(channels: channels) })
    }
}
