import Foundation
import Testing
@testable import RAFTKit

@Suite struct ForwardInterpolationTests {
    /// Against scipy's griddata(method='nearest') (Scripts/fixtures/model.py): exact.
    @Test(arguments: ["a", "b"])
    func matchesScipy(_ name: String) throws {
        let fixture = try Fixtures.load("forward_interpolate.safetensors")
        let flow = try fixture.require("flow_\(name)"), reference = try fixture.require("interp_\(name)")
        let out = try RAFT.forwardInterpolate(flow)
        #expect(out.shape == reference.shape)
        #expect(out.maxAbsDifference(reference) == 0)
        // Batched form gives the same.
        let batched = try RAFT.forwardInterpolate(try flow.reshaped([1] + flow.shape))
        #expect(try batched.reshaped(flow.shape) == out)
    }

    /// Brute force over all kept points (lowest index on ties) on random flows with many points leaving.
    @Test func matchesBruteForce() throws {
        var rng = SeededGenerator(seed: 4)
        let (h, w) = (17, 23)
        let flow = Tensor.random([2, h, w], in: -9...9, using: &rng)
        let out = try RAFT.forwardInterpolate(flow)
        var points: [(x: Double, y: Double, p: Int)] = []
        for p in 0..<(h * w) {
            let x = Double(p % w) + Double(flow.pointer[p]), y = Double(p / w) + Double(flow.pointer[h * w + p])
            if x > 0 && x < Double(w) && y > 0 && y < Double(h) { points.append((x, y, p)) }
        }
        for gy in 0..<h {
            for gx in 0..<w {
                var best = points[0].p, bestD = Double.infinity
                for q in points {
                    let d = (q.x - Double(gx)) * (q.x - Double(gx)) + (q.y - Double(gy)) * (q.y - Double(gy))
                    if d < bestD { bestD = d; best = q.p }
                }
                #expect(out[0, gy, gx] == flow.pointer[best] && out[1, gy, gx] == flow.pointer[h * w + best])
            }
        }
    }

    @Test func everythingLeavingGivesZeroFlow() throws {
        let flow = Tensor(shape: [2, 5, 6], repeating: 100)
        #expect(try RAFT.forwardInterpolate(flow) == Tensor(shape: [2, 5, 6]))
        // Zero flow: points on the border (x = 0 or y = 0) are not strictly inside, their neighbours fill in.
        let zero = try RAFT.forwardInterpolate(Tensor(shape: [2, 5, 6]))
        #expect(zero == Tensor(shape: [2, 5, 6]))
    }
}
