import Foundation
import Testing
@testable import RAFTKit

/// `raftflow flow A B --precision bf16` (issue 20's exact form) and its fallback.
@Suite("raftflow --precision")
struct CLIPrecisionTests {
    @Test func bfloat16RunsOrFallsBackWithANotice() throws {
        let scratch = try CLIScratch()
        let a = try CLIInputs.writeFrame("a.png", in: scratch)
        let b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 2, dy: 1)
        let out = try scratch.directory("out")
        let f32 = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "3", "--output", out + "/f32.flo"])
        #expect(f32.status == 0, "\(f32.stderr)")
        let bf16 = try RAFTFlowCLI.run(["flow", a, b, "--precision", "bf16", "--iterations", "3",
                                        "--output", out + "/bf16.flo"])
        #expect(bf16.status == 0, "\(bf16.stderr)")
        let reference = try FlowField.read(contentsOf: URL(fileURLWithPath: out + "/f32.flo"))
        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: out + "/bf16.flo"))
        if Precision.isBFloat16Supported {
            #expect(bf16.stderrLines.isEmpty, "\(bf16.stderr)")
            let worst = zip(reference.uv, flow.uv).map { abs($0 - $1) }.max() ?? 0
            #expect(worst > 0 && worst < 0.5, "bf16 vs f32: max \(worst) px")
        } else {
            #expect(bf16.stderrLines == ["raftflow: this CPU has no AVX512_BF16; --precision bf16 runs in f32"])
            #expect(flow.uv == reference.uv)
        }
    }

    @Test func unknownPrecisionIsAUsageError() throws {
        let scratch = try CLIScratch()
        let a = try CLIInputs.writeFrame("a.png", in: scratch)
        let r = try RAFTFlowCLI.run(["flow", a, a, "--precision", "fp8", "--output", scratch.path("f.flo")])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--precision"), "\(r.stderr)")
        #expect(try scratch.contents(".") == ["a.png"])
    }
}
