import Foundation
import Testing
@testable import RAFTKit

/// Parity of the update operator's modules against PyTorch fixtures with real RAFT shapes and synthetic
/// weights (Scripts/fixtures/update.py), parameter counts (PyTorch's for the official modules),
/// allocation-freedom and errors.
@Suite("Update: motion encoder, heads, update block")
struct UpdateTests {
    static let (h, w) = (Synthetic.height, Synthetic.width)

    static func reader(_ variant: RAFTVariant, only part: String = "") -> ParameterReader {
        ParameterReader(Synthetic.updateBlock(variant, only: part))
    }

    /// Tolerance 3e-4 max abs; outputs are ReLU features up to ~16 and the raw flow (|flow| < 4). Measured 1.6e-4
    /// with the 3×3 convolutions in Winograd F(4×4, 3×3), 7e-6 with F(2×2, 3×3).
    @Test("PyTorch parity: basic and small motion encoders")
    func motionEncoders() throws {
        let f = try Fixtures.load("update_motion_encoder.safetensors")
        #expect(try f.require("probe.flow") == Synthetic.input(.flow, [16]))
        #expect(try f.require("probe.correlation") == Synthetic.input(.correlation, [16]))
        let flow = Synthetic.input(.flow, [1, 2, Self.h, Self.w])
        for (variant, layout, corr, out) in [(RAFTVariant.basic, MotionEncoder.Layout.basic, 324, 128), (.small, .small, 196, 82)] {
            let encoder = try MotionEncoder(layout: layout, correlationChannels: corr,
                                            parameters: Self.reader(variant, only: "encoder"), prefix: "update_block.encoder")
            #expect(encoder.outputChannels == out)
            let y = try encoder(flow: flow, correlation: Synthetic.input(.correlation, [1, corr, Self.h, Self.w]))
            let ref = try f.require("\(variant).output")
            #expect(y.maxAbsDifference(ref) <= 3e-4, "\(variant)")
            #expect(try y.channels(out - 2 ..< out) == flow, "the raw flow is appended last")
        }
    }

    /// Tolerance 1e-4 max abs (|Δflow| ≲ 2.5, |0.25-scaled logits| ≲ 1); measured ≤ 1e-6.
    @Test("PyTorch parity: flow heads and mask head")
    func heads() throws {
        let f = try Fixtures.load("update_heads.safetensors")
        #expect(try f.require("probe.hidden") == Synthetic.input(.hidden, [16]))
        let h128 = Synthetic.input(.hidden, [1, 128, Self.h, Self.w]), h96 = Synthetic.input(.hidden, [1, 96, Self.h, Self.w])
        let basic = try FlowHead(parameters: Self.reader(.basic, only: "flow_head"), prefix: "update_block.flow_head",
                                 inputChannels: 128, hiddenChannels: 256)
        let small = try FlowHead(parameters: Self.reader(.small, only: "flow_head"), prefix: "update_block.flow_head",
                                 inputChannels: 96, hiddenChannels: 128)
        let mask = try MaskHead(parameters: Self.reader(.basic, only: "mask"), prefix: "update_block.mask", inputChannels: 128)
        #expect(try basic(h128).maxAbsDifference(f.require("basic.flow")) <= 1e-4)
        #expect(try small(h96).maxAbsDifference(f.require("small.flow")) <= 1e-4)
        #expect(try mask(h128).maxAbsDifference(f.require("mask")) <= 1e-4)
        // The raw-pointer forms agree with the batched ones.
        let workspace = Workspace()
        var out = Tensor(shape: [1, 576, Self.h, Self.w])
        mask.forward(h128.pointer, height: Self.h, width: Self.w, output: out.mutablePointer(), workspace: workspace)
        #expect(out.maxAbsDifference(try f.require("mask")) <= 1e-4)
    }

    @Test("parameter counts")
    func parameterCounts() throws {
        #expect(MotionEncoder(layout: .basic, correlationChannels: 324).parameterCount == 902_654)
        #expect(MotionEncoder(layout: .small, correlationChannels: 196).parameterCount == 135_952)
        #expect(FlowHead(inputChannels: 128, hiddenChannels: 256).parameterCount == 299_778)
        #expect(FlowHead(inputChannels: 96, hiddenChannels: 128).parameterCount == 113_026)
        #expect(MaskHead().parameterCount == 443_200)
        let basic = try UpdateBlock(configuration: .basic, parameters: Self.reader(.basic))
        let small = try UpdateBlock(configuration: .small, parameters: Self.reader(.small))
        #expect(basic.parameterCount == 902_654 + 1_475_328 + 299_778 + 443_200)
        #expect(small.parameterCount == 135_952 + 627_552 + 113_026)
        #expect(basic.hasMaskHead && !small.hasMaskHead)
        // The paper's "update operator 2.7M" = encoder + GRU + flow head.
        #expect(basic.parameterCount - basic.maskHead!.parameterCount == 2_677_760)
        #expect(basic.gru.geometries == SeqConvGRU.separableGeometries && small.gru.geometries == [ConvGeometry(square: 3)])
        #expect(basic.multiplyAccumulates(height: 1, width: 1) == basic.parameterCount - (126 + 192 + 256 + 128 + 64) - 6 * 128 - 256 - 2 - 256 - 576)
    }

    /// Tolerance 1e-4 max abs on hidden (|h| < 1), Δflow (≲ 2) and mask logits (≲ 1.1); measured ≤ 4e-6.
    @Test("PyTorch parity: full basic update block step (SepConvGRU, mask head)")
    func basicBlock() throws {
        let f = try Fixtures.load("update_block.safetensors")
        for kind in [Synthetic.Input.hidden, .context, .correlation, .flow] {
            #expect(try f.require("probe.\(kind.rawValue)") == Synthetic.input(kind, [16]))
        }
        let block = try UpdateBlock(configuration: .basic, parameters: Self.reader(.basic))
        let (h, w) = (Self.h, Self.w)
        let out = try block(hidden: Synthetic.input(.hidden, [1, 128, h, w]), context: Synthetic.input(.context, [1, 128, h, w]),
                        correlation: Synthetic.input(.correlation, [1, 324, h, w]), flow: Synthetic.input(.flow, [1, 2, h, w]))
        #expect(out.hidden.maxAbsDifference(try f.require("basic.hidden")) <= 1e-4)
        #expect(out.deltaFlow.maxAbsDifference(try f.require("basic.delta_flow")) <= 1e-4)
        let mask = try #require(out.mask)
        #expect(mask.maxAbsDifference(try f.require("basic.mask")) <= 1e-4)
    }

    /// Batch of two (sample 2 = sample 1 flipped). Tolerance 1e-4 max abs.
    @Test("PyTorch parity: full small update block step (ConvGRU 3×3, no mask), batch 2")
    func smallBlock() throws {
        let f = try Fixtures.load("update_block.safetensors")
        let block = try UpdateBlock(configuration: .small, parameters: Self.reader(.small))
        let (h, w) = (Self.h, Self.w)
        let two = Synthetic.withFlippedSecondSample
        let out = try block(hidden: two(Synthetic.input(.hidden, [1, 96, h, w])), context: two(Synthetic.input(.context, [1, 64, h, w])),
                        correlation: two(Synthetic.input(.correlation, [1, 196, h, w])), flow: two(Synthetic.input(.flow, [1, 2, h, w])))
        #expect(out.mask == nil)
        #expect(out.hidden.maxAbsDifference(try f.require("small.hidden")) <= 1e-4)
        #expect(out.deltaFlow.maxAbsDifference(try f.require("small.delta_flow")) <= 1e-4)
    }

    /// Inputs for one raw `step` of `configuration` on an h×w grid.
    struct StepBuffers {
        var hidden, context, correlation, flow, delta, mask: Tensor
        init(_ c: RAFTConfiguration, height h: Int, width w: Int) {
            hidden = Synthetic.input(.hidden, [1, c.hiddenChannels, h, w])
            context = Synthetic.input(.context, [1, c.contextChannels, h, w])
            correlation = Synthetic.input(.correlation, [1, c.correlationChannels, h, w])
            flow = Synthetic.input(.flow, [1, 2, h, w])
            delta = Tensor(shape: [1, 2, h, w])
            mask = Tensor(shape: [1, 576, h, w])
        }
        mutating func step(_ block: UpdateBlock, withMask: Bool, workspace: Workspace) {
            let (h, w) = (hidden.h, hidden.w)
            block.step(hidden: hidden.mutablePointer(), context: context.pointer, correlation: correlation.pointer,
                       flow: flow.pointer, height: h, width: w, deltaFlow: delta.mutablePointer(),
                       mask: withMask ? mask.mutablePointer() : nil, workspace: workspace)
        }
    }

    @Test("a second step with the same workspace allocates nothing, mask on or off", arguments: [RAFTVariant.basic, .small])
    func allocationFree(variant: RAFTVariant) throws {
        let c = RAFTConfiguration.for(variant)
        let block = try UpdateBlock(configuration: c, parameters: Self.reader(variant))
        var buffers = StepBuffers(c, height: Self.h, width: Self.w)
        let workspace = Workspace()
        buffers.step(block, withMask: false, workspace: workspace)
        let allocations = workspace.allocations
        buffers.step(block, withMask: true, workspace: workspace)
        buffers.step(block, withMask: false, workspace: workspace)
        #expect(workspace.allocations == allocations)
        // Smaller grids reuse the same buffers.
        var small = StepBuffers(c, height: Self.h - 3, width: Self.w - 5)
        small.step(block, withMask: true, workspace: workspace)
        #expect(workspace.allocations == allocations)
    }

    @Test("skipping the mask gives the same hidden state and Δflow (unfused flow head)")
    func maskOptional() throws {
        let block = try UpdateBlock(configuration: .basic, parameters: Self.reader(.basic))
        var a = StepBuffers(.basic, height: Self.h, width: Self.w), b = a
        a.step(block, withMask: true, workspace: Workspace())
        b.step(block, withMask: false, workspace: Workspace())
        #expect(a.hidden == b.hidden)
        #expect(a.delta.maxAbsDifference(b.delta) <= 1e-6)
        #expect(b.mask == Tensor(shape: [1, 576, Self.h, Self.w]), "nil mask leaves the mask untouched")
    }

    @Test("missing, misshapen and unexpected keys are reported by name")
    func loadingErrors() throws {
        var missing = Synthetic.updateBlock(.basic)
        missing["update_block.mask.2.weight"] = nil
        #expect(throws: WeightsError.missingKey(file: missing.source, key: "update_block.mask.2.weight")) {
            try UpdateBlock(configuration: .basic, stateDict: missing)
        }
        var misshapen = Synthetic.updateBlock(.small)
        misshapen["update_block.encoder.convc1.weight"] = Tensor(shape: [96, 324, 1, 1])
        #expect(throws: WeightsError.shapeMismatch(file: misshapen.source, key: "update_block.encoder.convc1.weight",
                                                   expected: [96, 196, 1, 1], found: [96, 324, 1, 1])) {
            try UpdateBlock(configuration: .small, stateDict: misshapen)
        }
        // Small weights under the basic configuration: the first basic key absent from the small set.
        #expect(throws: WeightsError.self) { try UpdateBlock(configuration: .basic, stateDict: Synthetic.updateBlock(.small)) }
        var extra = Synthetic.updateBlock(.small)
        extra["update_block.mask.0.weight"] = Tensor(shape: [1])
        extra["fnet.conv1.weight"] = Tensor(shape: [1])   // outside the prefix: not this block's business
        #expect(throws: WeightsError.unexpectedKeys(file: extra.source, keys: ["update_block.mask.0.weight"])) {
            try UpdateBlock(configuration: .small, stateDict: extra)
        }
        // Another prefix (e.g. torchvision-converted or `module.`-prefixed names handled by the caller).
        var prefixed = StateDict(source: "p")
        for (k, v) in Synthetic.updateBlock(.small, prefix: "module.update_block").tensors { prefixed[k] = v }
        #expect(throws: Never.self) { try UpdateBlock(configuration: .small, stateDict: prefixed, prefix: "module.update_block") }
    }
}
