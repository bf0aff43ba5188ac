/// What ``FlowHead`` and ``MaskHead`` share: `conv2(ReLU(conv1(h)))` on the GRU hidden state (core/update.py,
/// `FlowHead` and `BasicUpdateBlock.mask`).
public protocol ConvolutionHead: Sendable {
    /// The first convolution, hidden state → intermediate, followed by ReLU.
    var conv1: Conv2d { get }
    /// The second convolution, intermediate → the head's outputs.
    var conv2: Conv2d { get }
}

extension ConvolutionHead {
    /// Channels read (the GRU hidden state).
    public var inputChannels: Int { conv1.inputChannels }
    /// Learnable parameters.
    public var parameterCount: Int { conv1.parameterCount + conv2.parameterCount }
    /// Multiply-accumulates for one sample on an `height × width` grid.
    public func multiplyAccumulates(height: Int, width: Int) -> Int {
        conv1.multiplyAccumulates(height: height, width: width) + conv2.multiplyAccumulates(height: height, width: width)
    }

    /// `output = conv2(ReLU(conv1(hidden)))` for one sample, allocation-free once the workspace has grown. Its one
    /// scratch field, `ReLU(conv1(h))` `[intermediate, height, width]`, lies in the workspace's heads block, which
    /// the flow and mask heads share.
    /// - Parameters:
    ///   - hidden: `[inputChannels, height, width]`.
    ///   - output: `[conv2.outputChannels, height, width]`.
    func applyConvolutions(_ hidden: UnsafePointer<Float>, height: Int, width: Int,
                           output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let mid = workspace.heads.carve { $0.take(conv1.outputChannels * height * width) }
        conv1.forward(hidden, height: height, width: width, output: mid, workspace: workspace, activation: .relu)
        conv2.forward(mid, height: height, width: width, output: output, workspace: workspace)
    }
}
