import Foundation
import Testing
@testable import RAFTKit
@testable import RAFTKitAnalysis

/// The research API's former traps (the precondition audit in docs/ARCHITECTURE.md): every argument that used
/// to stop the process now throws its typed error, naming what was expected and what was found.
@Suite struct ResearchAPIFormerTrapTests {
    @Test("Tensor: bad shapes, value counts, reshapes, channel ranges and concatenations throw TensorError")
    func tensor() throws {
        #expect(throws: TensorError.invalidShape([2, -1])) { try Tensor(shape: [2, -1], values: []) }
        #expect(throws: TensorError.invalidShape([Int.max, 2])) { try Tensor(shape: [Int.max, 2], values: []) }
        #expect(throws: TensorError.valueCount(shape: [2, 3], expected: 6, found: 5)) {
            try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
        #expect(throws: TensorError.invalidShape([-3])) { try Tensor.elementCount(of: [-3]) }
        #expect(try Tensor.elementCount(of: [2, 0, 5]) == 0)
        let t = try Tensor(shape: [1, 2, 2, 3], values: (0..<12).map(Float.init))
        #expect(throws: TensorError.reshape(from: [1, 2, 2, 3], to: [5, 2])) { try t.reshaped([5, 2]) }
        #expect(throws: TensorError.reshape(from: [1, 2, 2, 3], to: [-12, -1])) { try t.reshaped([-12, -1]) }
        #expect(try t.reshaped([12]).shape == [12])
        #expect(throws: TensorError.channelRange(1..<3, channels: 2)) { try t.channels(1..<3) }
        #expect(throws: TensorError.self) { try Tensor(shape: [4]).channels(0..<1) }
        #expect(throws: TensorError.empty(argument: "parts")) { try Tensor.concatenateChannels([]) }
        #expect(throws: TensorError.self) { try Tensor.concatenateChannels([t, Tensor(shape: [1, 2, 2, 4])]) }
        #expect(throws: TensorError.self) { try Tensor.concatenateChannels([t, Tensor(shape: [12])]) }
        #expect(try Tensor.concatenateChannels([t, t]).shape == [1, 4, 2, 3])
        #expect(t.maxAbsDifference(Tensor(shape: [12])) == .infinity)
        let error = try #require(throws: TensorError.self) { try Tensor(shape: [2, 3], values: [1]) }
        #expect("\(error)".contains("6") && "\(error)".contains("1"), "\(error)")
    }

    @Test("InputPadder: pad and unpad of another size throw RAFTError.invalidShape")
    func padder() throws {
        let padder = try InputPadder(height: 10, width: 12)
        #expect(throws: RAFTError.self) { try padder.pad(Tensor(shape: [1, 3, 11, 12])) }
        #expect(throws: RAFTError.self) { try padder.pad(Tensor(shape: [3, 10, 12])) }
        #expect(throws: RAFTError.self) { try padder.unpad(Tensor(shape: [1, 3, 10, 12])) }
        let x = Tensor(shape: [1, 3, 10, 12], repeating: 2)
        #expect(try padder.unpad(padder.pad(x)) == x)
    }

    @Test("Conv2d and ConvGeometry: validating initialisers and checked forwards throw")
    func convolution() throws {
        #expect(throws: LayerError.self) { try ConvGeometry(validatingKernel: (0, 3)) }
        #expect(throws: LayerError.self) { try ConvGeometry(validatingKernel: (3, 3), stride: (1, -1)) }
        #expect(throws: LayerError.self) { try ConvGeometry(validatingKernel: (3, 3), padding: (-1, 0)) }
        #expect(throws: LayerError.self) { try ConvGeometry(validatingKernel: (3, 3), dilation: (0, 1)) }
        #expect(try ConvGeometry(validatingKernel: (3, 3), padding: (1, 1)) == ConvGeometry(square: 3))
        let g = ConvGeometry(square: 3)
        #expect(throws: LayerError.self) { try Conv2d(validatingWeight: Tensor(shape: [4, 2, 3]), geometry: g) }
        #expect(throws: LayerError.self) { try Conv2d(validatingWeight: Tensor(shape: [4, 2, 5, 5]), geometry: g) }
        #expect(throws: LayerError.self) {
            try Conv2d(validatingWeight: Tensor(shape: [4, 2, 3, 3]), bias: Tensor(shape: [3]), geometry: g)
        }
        #expect(throws: LayerError.unsupportedAlgorithm(.pointwise, g)) {
            try Conv2d(validatingWeight: Tensor(shape: [4, 2, 3, 3]), geometry: g, algorithm: .pointwise)
        }
        let conv = try Conv2d(validatingWeight: Tensor(shape: [4, 2, 3, 3], repeating: 0.1), geometry: g)
        #expect(throws: TensorError.self) { try conv(checking: Tensor(shape: [1, 3, 5, 5])) }
        var output = Tensor(shape: [1])
        #expect(throws: TensorError.self) { try conv.forward(checking: Tensor(shape: [2, 5, 5]), into: &output, workspace: Workspace()) }
        #expect(try conv(checking: Tensor(shape: [1, 2, 5, 5])).shape == [1, 4, 5, 5])
        #expect(throws: LayerError.self) { try Conv2d.stacking([]) }
        var product = Tensor(shape: [1])
        #expect(throws: TensorError.self) { try BLAS.multiply(checking: Tensor(shape: [2, 3]), Tensor(shape: [2, 3]), into: &product) }
        #expect(throws: TensorError.self) { try BLAS.multiply(checking: Tensor(shape: [6]), Tensor(shape: [2, 3]), into: &product) }
        #expect(throws: LayerError.self) {
            try Conv2d.stacking([conv, Conv2d(inputChannels: 3, outputChannels: 4, geometry: g)])
        }
    }

    @Test("layers: validating initialisers throw LayerError for parts that do not fit")
    func layerAssembly() throws {
        let g3 = ConvGeometry(square: 3), g1 = ConvGeometry(square: 1)
        let conv = { (i: Int, o: Int, g: ConvGeometry) in Conv2d(inputChannels: i, outputChannels: o, geometry: g) }
        #expect(throws: LayerError.self) { try FlowHead(validatingConv1: conv(8, 16, g3), conv2: conv(16, 3, g3)) }
        #expect(throws: LayerError.self) { try FlowHead(validatingConv1: conv(8, 16, g1), conv2: conv(16, 2, g3)) }
        #expect(try FlowHead(validatingConv1: conv(8, 16, g3), conv2: conv(16, 2, g3)).inputChannels == 8)
        #expect(throws: LayerError.self) { try MaskHead(validatingConv1: conv(8, 16, g3), conv2: conv(16, 575, g1)) }
        #expect(throws: LayerError.self) { try MaskHead(validatingConv1: conv(8, 16, g1), conv2: conv(16, 576, g1)) }
        #expect(throws: LayerError.self) {
            try MotionEncoder(validatingLayout: .small, correlationConvs: [], flowConvs: [conv(2, 4, g3)], conv: conv(4, 6, g3))
        }
        #expect(throws: LayerError.self) {
            try MotionEncoder(validatingLayout: .small, correlationConvs: [conv(9, 4, g1)], flowConvs: [conv(3, 4, g3)],
                              conv: conv(8, 6, g3))
        }
        #expect(throws: LayerError.self) {
            try MotionEncoder(validatingLayout: .small, correlationConvs: [conv(9, 4, g1)], flowConvs: [conv(2, 4, g3)],
                              conv: conv(7, 6, g3))
        }
        #expect(throws: LayerError.self) {
            try MotionEncoder(validatingLayout: .small, correlationConvs: [conv(9, 4, g1)],
                              flowConvs: [conv(2, 4, ConvGeometry(square: 3, padding: 0))], conv: conv(8, 6, g3))
        }
        #expect(throws: LayerError.self) { try ConvGRU(validatingZ: conv(10, 4, g3), r: conv(10, 4, g3), q: conv(10, 4, g1)) }
        #expect(throws: LayerError.self) { try ConvGRU(validatingZ: conv(10, 4, g3), r: conv(10, 5, g3), q: conv(10, 4, g3)) }
        #expect(throws: LayerError.self) { try ConvGRU(validatingZ: conv(4, 4, g3), r: conv(4, 4, g3), q: conv(4, 4, g3)) }
        let stride2 = ConvGeometry(square: 3, stride: 2)
        #expect(throws: LayerError.self) {
            try ConvGRU(validatingZ: conv(10, 4, stride2), r: conv(10, 4, stride2), q: conv(10, 4, stride2))
        }
        #expect(throws: LayerError.self) { try SeqConvGRU(validatingSteps: []) }
        #expect(throws: LayerError.self) {
            try SeqConvGRU(validatingSteps: [ConvGRU.small(), ConvGRU.small(hiddenChannels: 96, inputChannels: 100)])
        }
        let small = RAFTConfiguration.small
        let encoder = MotionEncoder(layout: .small, correlationChannels: small.correlationChannels)
        let gru = SeqConvGRU(steps: [ConvGRU.small()])
        #expect(throws: LayerError.self) {
            try UpdateBlock(validatingConfiguration: small, encoder: MotionEncoder(layout: .small, correlationChannels: 100),
                            gru: gru, flowHead: FlowHead(inputChannels: 96, hiddenChannels: 128), maskHead: nil)
        }
        #expect(throws: LayerError.self) {
            try UpdateBlock(validatingConfiguration: small, encoder: encoder, gru: SeqConvGRU.separable(),
                            flowHead: FlowHead(inputChannels: 96, hiddenChannels: 128), maskHead: nil)
        }
        #expect(throws: LayerError.self) {
            try UpdateBlock(validatingConfiguration: small, encoder: encoder, gru: gru,
                            flowHead: FlowHead(inputChannels: 96, hiddenChannels: 128), maskHead: MaskHead(inputChannels: 128))
        }
        let model = try ModelFixtures.model(.small)
        #expect(throws: LayerError.self) {
            try RAFT(validatingConfiguration: .basic, featureEncoder: model.featureEncoder,
                     contextEncoder: model.contextEncoder, updateBlock: model.updateBlock)
        }
        #expect(throws: LayerError.self) {
            try RAFT(validatingConfiguration: small, featureEncoder: model.contextEncoder,
                     contextEncoder: model.contextEncoder, updateBlock: model.updateBlock)
        }
        var noLevels = small
        noLevels.correlationLevels = 0
        #expect(throws: LayerError.self) {
            try RAFT(validatingConfiguration: noLevels, featureEncoder: model.featureEncoder,
                     contextEncoder: model.contextEncoder, updateBlock: model.updateBlock)
        }
        #expect(try RAFT(validatingConfiguration: small, featureEncoder: model.featureEncoder,
                         contextEncoder: model.contextEncoder, updateBlock: model.updateBlock).configuration == small)
    }

    @Test("layer forwards: inputs of the wrong shape throw TensorError")
    func layerForwards() throws {
        let model = try ModelFixtures.model(.small)
        let block = model.updateBlock
        let (h, w) = (3, 4)
        #expect(throws: TensorError.self) { try block.flowHead(Tensor(shape: [1, 95, h, w])) }
        #expect(throws: TensorError.self) { try MaskHead()(Tensor(shape: [1, 96, h, w])) }
        #expect(throws: TensorError.self) {
            try block.encoder(flow: Tensor(shape: [1, 3, h, w]), correlation: Tensor(shape: [1, 196, h, w]))
        }
        #expect(throws: TensorError.self) {
            try block.encoder(flow: Tensor(shape: [1, 2, h, w]), correlation: Tensor(shape: [1, 196, h, w + 1]))
        }
        let gru = ConvGRU.small()
        #expect(throws: TensorError.self) { try gru(hidden: Tensor(shape: [1, 95, h, w]), input: Tensor(shape: [1, 146, h, w])) }
        #expect(throws: TensorError.self) { try gru(hidden: Tensor(shape: [1, 96, h, w]), input: Tensor(shape: [2, 146, h, w])) }
        #expect(throws: TensorError.self) {
            try SeqConvGRU(steps: [gru])(hidden: Tensor(shape: [1, 96, h, w]), input: Tensor(shape: [1, 145, h, w]))
        }
        let (hidden, context) = (Tensor(shape: [1, 96, h, w]), Tensor(shape: [1, 64, h, w]))
        let (correlation, flow) = (Tensor(shape: [1, 196, h, w]), Tensor(shape: [1, 2, h, w]))
        #expect(throws: TensorError.self) {
            try block(hidden: hidden, context: Tensor(shape: [1, 63, h, w]), correlation: correlation, flow: flow)
        }
        #expect(throws: TensorError.self) {
            try block(hidden: Tensor(shape: [96, h, w]), context: context, correlation: correlation, flow: flow)
        }
        var state = hidden, delta = Tensor(shape: [1]), mask: Tensor? = nil
        #expect(throws: TensorError.self) {
            try block.step(hidden: &state, context: context, correlation: correlation, flow: Tensor(shape: [1, 2, h, w + 1]),
                           deltaFlow: &delta, mask: &mask, workspace: Workspace())
        }
        #expect(try block(hidden: hidden, context: context, correlation: correlation, flow: flow).deltaFlow.shape == [1, 2, h, w])
        #expect(throws: TensorError.self) { try ConvexUpsampler.upsample(flow: flow, mask: Tensor(shape: [1, 575, h, w])) }
        #expect(throws: TensorError.self) { try ConvexUpsampler.upsample(flow: Tensor(shape: [1, 1, h, w]), mask: Tensor(shape: [1, 576, h, w])) }
        #expect(throws: TensorError.self) { try BilinearUpsampler.upflow8(Tensor(shape: [2, h, w])) }
        #expect(throws: TensorError.self) { try model.featureEncoder(Tensor(shape: [1, 4, 16, 16])) }
    }

    @Test("Correlation.lookup: bad levels, radius, sizes and coords throw TensorError")
    func correlation() throws {
        let f = Tensor(shape: [1, 8, 8, 8], repeating: 0.5), coords = Tensor(shape: [1, 2, 8, 8])
        #expect(throws: TensorError.invalidArgument("levels", expected: "at least 1", found: 0)) {
            try Correlation.lookup(fmap1: f, fmap2: f, coords: coords, levels: 0, radius: 1)
        }
        #expect(throws: TensorError.self) { try Correlation.lookup(fmap1: f, fmap2: f, coords: coords, radius: -1) }
        #expect(throws: TensorError.self) { try Correlation.lookup(fmap1: f, fmap2: f, coords: coords, levels: 5, radius: 1) }
        #expect(throws: TensorError.self) { try Correlation.lookup(fmap1: f, fmap2: f, coords: coords, levels: 200, radius: 1) }
        #expect(throws: TensorError.self) {
            try Correlation.lookup(fmap1: f, fmap2: Tensor(shape: [1, 8, 8, 9]), coords: coords, radius: 1)
        }
        #expect(throws: TensorError.self) { try Correlation.lookup(fmap1: f, fmap2: f, coords: Tensor(shape: [1, 2, 8, 7]), radius: 1) }
        #expect(throws: TensorError.self) {
            let empty = Tensor(shape: [1, 8, 0, 8])
            return try Correlation.lookup(fmap1: empty, fmap2: empty, coords: Tensor(shape: [1, 2, 0, 8]), radius: 1)
        }
        #expect(try Correlation.lookup(fmap1: f, fmap2: f, coords: coords, levels: 4, radius: 1).shape == [1, 36, 8, 8])
        // Sizes without a volume resolve without trapping.
        #expect(CorrelationMode.automatic.resolved(samples: 1, height: 0, width: 5) == .allPairs)
        #expect(CorrelationMode.onDemand.resolved(samples: 1, height: 4, width: 4, levels: 0) == .onDemand)
        #expect(CorrelationMode.allPairsBytes(samples: 1, height: -1, width: 4) == 0)
    }

    @Test("ProceduralWeights.stateDict: keys without a procedural range and bad shapes throw WeightsError")
    func proceduralWeights() throws {
        #expect(throws: WeightsError.unexpectedKeys(file: "<procedural>", keys: ["conv.gamma", "nodot"])) {
            try ProceduralWeights.stateDict(shapes: ["nodot": [1], "conv.gamma": [2], "conv.weight": [2, 1, 1, 1]], seed: 1)
        }
        #expect(throws: WeightsError.invalidShape(file: "<procedural>", key: "norm.weight", shape: [-2])) {
            try ProceduralWeights.stateDict(shapes: ["norm.weight": [-2]], seed: 1)
        }
        #expect(throws: WeightsError.self) {
            try ProceduralWeights.stateDict(shapes: ["conv.weight": [4, 0, 3, 3], "conv.bias": [4]], seed: 1)
        }
        let dict = try ProceduralWeights.stateDict(shapes: ["conv.weight": [4, 2, 3, 3], "conv.bias": [4]], seed: 1)
        #expect(dict.tensors["conv.weight"]?.shape == [4, 2, 3, 3])
    }

    @Test("RAFTKitAnalysis: bad grids, sources, counts, options and mask sizes throw AnalysisError")
    func analysis() throws {
        #expect(throws: AnalysisError.self) { try GridMask(height: 2, width: 2, cells: [true]) }
        #expect(throws: AnalysisError.self) { try GridMask(height: -1, width: 2) }
        #expect(throws: AnalysisError.self) { try GridMask(height: 2, width: 2) | GridMask(height: 2, width: 3) }
        #expect(try (GridMask(height: 1, width: 2, cells: [true, false]) | GridMask(height: 1, width: 2, cells: [false, true])).count == 2)
        #expect(throws: AnalysisError.self) {
            try ReceptiveField.support(of: .conv3x3, height: 5, width: 5, source: (5, 0), perturbing: .input, iterations: 1)
        }
        var bent = GRUVariant.conv3x3
        bent.kernels[0].height = 4   // public, mutable: checked where it is used
        #expect(throws: AnalysisError.self) {
            try ReceptiveField.support(of: bent, height: 5, width: 5, source: (2, 2), perturbing: .input, iterations: 1)
        }
        let channels = GRUChannels(hidden: 4, input: 6)
        for (height, draws, delta) in [(0, 1, Float(1)), (5, 0, 1), (5, 1, 0), (5, 1, .nan)] {
            #expect(throws: AnalysisError.self) {
                try ImpulseResponse.measure(.conv3x3, channels: channels, height: height, width: 5, iterations: 1, draws: draws,
                                            delta: delta, perturbing: .input, seed: 1)
            }
        }
        #expect(throws: AnalysisError.self) { try StepTiming.measure([.conv3x3], channels: channels, height: 5, width: 5, repeats: 0) }
        #expect(throws: AnalysisError.self) { try StepTiming.measure([], channels: channels, height: 5, width: 5, repeats: 1) }
        #expect(throws: AnalysisError.self) {
            try ReceptiveFieldStudy.run(ReceptiveFieldStudy.Options(variants: [], channels: channels, height: 9, width: 9))
        }
        #expect(throws: AnalysisError.self) {
            try ReceptiveFieldStudy.run(ReceptiveFieldStudy.Options(variants: [.conv3x3], channels: channels, height: 9, width: 9,
                                                                    iterations: 1, draws: 1, repeats: -1))
        }
        let study = try ReceptiveFieldStudy.run(ReceptiveFieldStudy.Options(
            variants: [.conv3x3], channels: channels, height: 9, width: 9, iterations: 1, draws: 1, perturbations: [.input],
            repeats: 0))
        #expect(throws: AnalysisError.self) { try study.heatMap(scale: 0) }
        #expect(throws: AnalysisError.self) { try study.heatMap(decades: 0) }
    }
}
