import Foundation
import Testing
@testable import RAFTKit

/// Convex (core/raft.py, `RAFT.upsample_flow`) and bilinear align-corners (core/utils/utils.py, `upflow8`) 8×
/// upsampling.
@Suite("Update: convex and bilinear upsampling")
struct UpsamplerTests {
    /// The official `upsample_flow`'s formula, literally, in Double.
    static func naiveConvex(flow: Tensor, mask: Tensor) -> Tensor {
        let (n, h, w) = (flow.n, flow.h, flow.w)
        var out = Tensor(shape: [n, 2, 8 * h, 8 * w])
        for s in 0..<n {
            for y in 0..<h { for x in 0..<w { for a in 0..<8 { for b in 0..<8 {
                let logits = (0..<9).map { Double(mask[s, 64 * $0 + 8 * a + b, y, x]) }
                let m = logits.max()!
                let e = logits.map { Foundation.exp($0 - m) }
                let total = e.reduce(0, +)
                for c in 0..<2 {
                    var acc = 0.0
                    for k in 0..<9 {
                        let (yy, xx) = (y + k / 3 - 1, x + k % 3 - 1)
                        let f = yy >= 0 && yy < h && xx >= 0 && xx < w ? 8 * Double(flow[s, c, yy, xx]) : 0
                        acc += e[k] / total * f
                    }
                    out[s, c, 8 * y + a, 8 * x + b] = Float(acc)
                }
            }}}}
        }
        return out
    }

    /// Align-corners bilinear in Double: output i reads input i·(h−1)/(8h−1).
    static func naiveUpflow8(_ flow: Tensor) -> Tensor {
        let (n, h, w) = (flow.n, flow.h, flow.w)
        var out = Tensor(shape: [n, 2, 8 * h, 8 * w])
        func coord(_ i: Int, _ size: Int) -> (Int, Int, Double) {
            let r = size > 1 ? Double(i) * Double(size - 1) / Double(8 * size - 1) : 0
            let i0 = min(Int(r), size - 1)
            return (i0, min(i0 + 1, size - 1), r - Double(i0))
        }
        for s in 0..<n { for c in 0..<2 { for oy in 0..<(8 * h) { for ox in 0..<(8 * w) {
            let (y0, y1, ly) = coord(oy, h), (x0, x1, lx) = coord(ox, w)
            func v(_ y: Int, _ x: Int) -> Double { Double(flow[s, c, y, x]) }
            let t = (1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1))
            out[s, c, oy, ox] = Float(8 * t)
        }}}}
        return out
    }

    /// Tolerance: 1e-5 relative to max(1, |value|) (outputs are full-resolution pixels, up to ~32).
    @Test("convex upsampling matches the direct formula, zero-padded border included", arguments: [(1, 1), (2, 3), (4, 5)])
    func convexNaive(size: (Int, Int)) throws {
        var rng = SeededGenerator(seed: 3)
        let flow = Tensor.random([2, 2, size.0, size.1], in: -4...4, using: &rng)
        let mask = Tensor.random([2, 576, size.0, size.1], in: -5...5, using: &rng)
        let out = try ConvexUpsampler.upsample(flow: flow, mask: mask)
        #expect(out.maxRelativeDifference(Self.naiveConvex(flow: flow, mask: mask)) <= 1e-5)
    }

    @Test("convex upsampling: constant flow stays constant inside, borders are pulled towards zero")
    func convexProperties() throws {
        let flow = Tensor(shape: [1, 2, 3, 3], repeating: 1)
        let mask = Tensor(shape: [1, 576, 3, 3])   // uniform weights 1/9
        let out = try ConvexUpsampler.upsample(flow: flow, mask: mask)
        #expect(abs(out[0, 0, 12, 12] - 8) < 1e-5)            // centre coarse pixel: all 9 neighbours inside
        #expect(abs(out[0, 1, 0, 0] - 8 * 4 / 9) < 1e-5)      // corner: 4 of 9 neighbours inside
        #expect(abs(out[0, 0, 0, 12] - 8 * 6 / 9) < 1e-5)     // edge: 6 of 9
    }

    @Test("upflow8 matches direct align-corners interpolation", arguments: [(1, 1), (1, 4), (3, 2), (5, 7)])
    func upflow8Naive(size: (Int, Int)) throws {
        var rng = SeededGenerator(seed: 4)
        let flow = Tensor.random([2, 2, size.0, size.1], in: -4...4, using: &rng)
        #expect(try BilinearUpsampler.upflow8(flow).maxRelativeDifference(Self.naiveUpflow8(flow)) <= 1e-5)
    }

    /// Tolerance: 1e-5 relative to max(1, |value|) (values up to ~32 full-resolution pixels).
    @Test("PyTorch parity: convex upsampling and upflow8 on 13×17")
    func parity() throws {
        let f = try Fixtures.load("update_upsampling.safetensors")
        #expect(try f.require("probe.flow") == Synthetic.input(.flow, [16]))
        #expect(try f.require("probe.mask") == Synthetic.input(.mask, [16]))
        let (h, w) = (Synthetic.height, Synthetic.width)
        let flow = Synthetic.input(.flow, [1, 2, h, w]), mask = Synthetic.input(.mask, [1, 576, h, w])
        #expect(try ConvexUpsampler.upsample(flow: flow, mask: mask).maxRelativeDifference(f.require("convex")) <= 1e-5)
        #expect(try BilinearUpsampler.upflow8(flow).maxRelativeDifference(f.require("upflow8")) <= 1e-5)
    }
}
