import Foundation
import Testing
@testable import RAFTKit

@Suite("Flow files")
struct FlowFileTests {
    static let expected = try! Fixtures.load("io/expected.safetensors")

    static func randomFlow(width: Int = 7, height: Int = 5, seed: UInt64 = 1, range: ClosedRange<Float> = -30...30) -> FlowField {
        var rng = SeededGenerator(seed: seed)
        return FlowField(unchecked: width, height, uv: (0..<width * height * 2).map { _ in Float.random(in: range, using: &rng) })
    }

    func error(_ bytes: [UInt8], _ format: FlowFileFormat) -> FlowFileError? {
        do { _ = try FlowField.decode(Data(bytes), format: format, source: "f"); return nil } catch { return error }
    }

    // MARK: FlowField

    @Test func fieldAccessorsAndTensor() throws {
        var flow = Self.randomFlow()
        flow[x: 2, y: 3] = (u: 3, v: -4)
        #expect(flow[x: 2, y: 3].u == 3 && flow.uv[2 * (3 * 7 + 2) + 1] == -4)
        let t = flow.tensor
        #expect(t.shape == [1, 2, 5, 7] && t[0, 0, 3, 2] == 3 && t[0, 1, 3, 2] == -4)
        #expect(try FlowField(tensor: t) == flow)
        #expect(try FlowField(tensor: Tensor.concatenateChannels([t, t]).reshaped([2, 2, 5, 7]), batchIndex: 1) == flow)
        #expect(!flow.hasNonFinite && flow.validCount == 35)
        let small = try FlowField(width: 2, height: 1, uv: [3, 4, 0, 100], valid: [1, 0.4])
        #expect(small.maxMagnitude == 5 && small.validCount == 1 && !small.isValid(x: 1, y: 0))
        #expect(try FlowField(width: 1, height: 1, uv: [.nan, 0]).hasNonFinite)
    }

    // MARK: Middlebury .flo

    @Test func floFixtureAndRoundTrip() throws {
        let flow = try FlowField.read(contentsOf: Fixtures.url("io/flow.flo"))
        let reference = try Self.expected.require("flo_uv")
        #expect(flow.width == 4 && flow.height == 3 && flow.valid == nil)
        #expect(flow.uv == reference.scalars)
        #expect(try FlowField.decode(flow.encoded(as: .middlebury), format: .middlebury) == flow)
        #expect(try flow.encoded(as: .middlebury) == Data(contentsOf: Fixtures.url("io/flow.flo")))
    }

    @Test func floHeaderIsValidatedAgainstTheFileSize() throws {
        let good = [UInt8](try Self.randomFlow(width: 3, height: 2).encoded(as: .middlebury))
        #expect(good.count == 12 + 8 * 6)
        #expect(error(good, .middlebury) == nil)
        for cut in [0, 3, 8, 11, 12, 20, good.count - 1] {
            guard case .sizeMismatch("f", let e, let a)? = error(Array(good.prefix(cut)), .middlebury) else {
                Issue.record("cut at \(cut): \(String(describing: error(Array(good.prefix(cut)), .middlebury)))"); continue
            }
            #expect(a == cut && e == (cut < 12 ? 12 : good.count))
        }
        guard case .sizeMismatch(_, 60, 61)? = error(good + [0], .middlebury) else { Issue.record("extra byte"); return }
        var bad = good
        bad[0] = UInt8(ascii: "X")
        guard case .badMagic? = error(bad, .middlebury) else { Issue.record("magic"); return }
        let bigEndian = Array(good[0..<4].reversed()) + Array(good[4...])
        guard case .badMagic(_, let detail)? = error(bigEndian, .middlebury) else { Issue.record("big-endian"); return }
        #expect(detail.contains("big-endian"))
        func header(_ w: Int32, _ h: Int32) -> [UInt8] {
            Array("PIEH".utf8) + withUnsafeBytes(of: w.littleEndian, Array.init) + withUnsafeBytes(of: h.littleEndian, Array.init)
        }
        for (w, h) in [(0, 2), (3, -1), (-5, -5), (Int32.max, Int32.max), (100_000, 100_000), (1 << 15, 1 << 15)] {
            guard case .invalidHeader? = error(header(w, h) + [UInt8](repeating: 0, count: 48), .middlebury) else {
                Issue.record("dims \(w)x\(h)"); continue
            }
        }
    }

    @Test func floNonFiniteAndUnknownFlow() throws {
        var flow = Self.randomFlow(width: 3, height: 2)
        flow.uv[3] = .nan
        #expect(throws: FlowFileError.nonFinite(file: "w.flo", count: 1)) { try flow.encoded(as: .middlebury, source: "w.flo") }
        var bytes = [UInt8](try Self.randomFlow(width: 3, height: 2).encoded(as: .middlebury))
        bytes.replaceSubrange(12..<16, with: withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian, Array.init))
        #expect(error(bytes, .middlebury) == .nonFinite(file: "f", count: 1))
        // Middlebury's "unknown flow" (> 1e9) becomes the validity mask, and writing restores it.
        var masked = Self.randomFlow(width: 3, height: 2)
        masked.valid = [1, 1, 0, 1, 1, 1]
        let back = try FlowField.decode(masked.encoded(as: .middlebury), format: .middlebury)
        #expect(back.valid == [1, 1, 0, 1, 1, 1])
        #expect(back[x: 2, y: 0].u == 1e10 && back[x: 1, y: 0] == masked[x: 1, y: 0])
    }

    // MARK: KITTI PNG

    @Test func kittiFixtureMatchesTheReferenceReader() throws {
        let flow = try FlowField.read(contentsOf: Fixtures.url("io/kitti_flow.png"))
        #expect(flow.width == 7 && flow.height == 5)
        #expect(flow.uv == (try Self.expected.require("kitti_uv")).scalars)
        #expect(flow.valid == (try Self.expected.require("kitti_valid")).scalars)
        #expect(flow[x: 0, y: 0].u == -0.015625 && flow[x: 0, y: 0].v == 0)
        #expect(!flow.isValid(x: 3, y: 4) && !flow.isValid(x: 6, y: 2) && flow.validCount == 33)
    }

    /// Writing the reference writer's input gives the reference writer's stored samples (truncation).
    @Test func kittiWriterTruncatesLikeTheReference() throws {
        let input = try Self.expected.require("kitti_input")
        var flow = try FlowField(width: 7, height: 5, uv: input.scalars)
        flow.valid = (try Self.expected.require("kitti_valid")).scalars
        let written = try RasterImage(data: flow.encoded(as: .kittiPNG))
        let reference = try RasterImage(contentsOf: Fixtures.url("io/kitti_flow.png"))
        #expect(written == reference)
        #expect(written[x: 0, y: 0, channel: 0] == 32767 && written[x: 0, y: 0, channel: 1] == 32768)
        #expect(written[x: 1, y: 0, channel: 0] == 32831 && written[x: 1, y: 0, channel: 1] == 32703)  // 0.999, -1.001
    }

    @Test func kittiRoundTripAndRange() throws {
        #expect(KITTIFlow.quantize(-0.01) == 32767)
        #expect(KITTIFlow.quantize(0.01) == 32768)
        #expect(KITTIFlow.quantize(1.0 / 64) == 32769)
        #expect(KITTIFlow.quantize(-512) == 0 && KITTIFlow.quantize(-600) == 0 && KITTIFlow.quantize(-1e30) == 0)
        #expect(KITTIFlow.quantize(511.984375) == 65535 && KITTIFlow.quantize(600) == 65535)
        // Values on the 1/64 grid inside the range survive exactly; the mask is kept.
        var rng = SeededGenerator(seed: 5)
        var flow = try FlowField(width: 6, height: 4, uv: (0..<48).map { _ in Float(Int.random(in: -32768...32767, using: &rng)) / 64 })
        flow.valid = (0..<24).map { $0 % 5 == 0 ? 0 : 1 }
        let back = try FlowField.decode(flow.encoded(as: .kittiPNG), format: .kittiPNG)
        #expect(back == flow)
        // Out-of-range flow saturates instead of wrapping around.
        let far = try FlowField(width: 2, height: 1, uv: [-1000, 1000, 700, -513])
        #expect(try FlowField.decode(far.encoded(as: .kittiPNG), format: .kittiPNG).uv == [-512, 511.984375, 511.984375, -512])
        // A field without a mask is written valid everywhere.
        #expect(try FlowField.decode(far.encoded(as: .kittiPNG), format: .kittiPNG).valid == [1, 1])
    }

    @Test func kittiRefusesOtherPNGsAndNonFiniteFlow() throws {
        let eightBit = [UInt8](try Data(contentsOf: Fixtures.url("io/rgb8.png")))
        guard case .unsupported(_, let reason)? = error(eightBit, .kittiPNG) else { Issue.record("8-bit"); return }
        #expect(reason.contains("8-bit RGB"))
        let gray16 = [UInt8](try Data(contentsOf: Fixtures.url("io/gray16.png")))
        guard case .unsupported? = error(gray16, .kittiPNG) else { Issue.record("gray16"); return }
        guard case .image(.truncated)? = error(Array(eightBit.prefix(40)), .kittiPNG) else { Issue.record("cut"); return }
        var flow = try FlowField(width: 2, height: 1, uv: [.nan, 1, 2, .infinity], valid: [1, 0])
        #expect(throws: FlowFileError.nonFinite(file: "<memory>", count: 1)) { try flow.encoded(as: .kittiPNG) }
        flow.uv[0] = 0.5
        let back = try FlowField.decode(flow.encoded(as: .kittiPNG), format: .kittiPNG)
        #expect(back.uv == [0.5, 1, 0, 0] && back.valid == [1, 0])   // non-finite flow at an invalid pixel stored as 0
    }

    // MARK: PFM

    @Test func pfmFixturesBothByteOrders() throws {
        let reference = try Self.expected.require("pfm_uv").scalars
        for name in ["flow_le.pfm", "flow_be.pfm"] {
            let flow = try FlowField.read(contentsOf: Fixtures.url("io/\(name)"))
            #expect(flow.width == 4 && flow.height == 3, "\(name)")
            #expect(flow.uv == reference, "\(name)")
        }
    }

    @Test func pfmRoundTripAndErrors() throws {
        let flow = Self.randomFlow()
        let data = try flow.encoded(as: .pfm)
        #expect(data.starts(with: Array("PF\n7 5\n-1\n".utf8)))
        #expect(try FlowField.decode(data, format: .pfm) == flow)
        let bytes = [UInt8](data)
        guard case .sizeMismatch? = error(Array(bytes.dropLast()), .pfm) else { Issue.record("truncated"); return }
        guard case .sizeMismatch? = error(bytes + [0, 0, 0, 0], .pfm) else { Issue.record("extra"); return }
        guard case .badMagic? = error(Array("P6\n1 1\n255\n".utf8), .pfm) else { Issue.record("magic"); return }
        guard case .invalidHeader? = error(Array("PF\n7 x\n-1\n".utf8), .pfm) else { Issue.record("dims"); return }
        guard case .invalidHeader? = error(Array("PF\n7 5\n0\n".utf8), .pfm) else { Issue.record("scale 0"); return }
        guard case .invalidHeader? = error(Array("PF\n7 5".utf8), .pfm) else { Issue.record("cut header"); return }
        guard case .invalidHeader? = error(Array("PF\n99999 99999\n-1\n".utf8), .pfm) else { Issue.record("huge"); return }
        let oneChannel = Array("Pf\n1 1\n-1\n".utf8) + [0, 0, 0, 0]
        guard case .unsupported? = error(oneChannel, .pfm) else { Issue.record("Pf"); return }
        let nan = Array("PF\n1 1\n-1\n".utf8) + withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init) + [UInt8](repeating: 0, count: 8)
        #expect(error(nan, .pfm) == .nonFinite(file: "f", count: 1))
    }

    // MARK: Choosing the format, atomic writes

    @Test func formatByContentThenExtension() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flow = Self.randomFlow(width: 4, height: 3, range: -5...5)
        for format in FlowFileFormat.allCases {
            // A misleading extension: the content decides.
            let url = dir.appendingPathComponent("flow-\(format.rawValue).dat")
            try flow.write(to: url, format: format)
            let back = try FlowField.read(contentsOf: url)
            let tolerance: Float = format == .kittiPNG ? 1.0 / 64 : 0
            #expect(zip(back.uv, flow.uv).allSatisfy { abs($0 - $1) <= tolerance }, "\(format)")
        }
        try flow.write(to: dir.appendingPathComponent("a.flo"))
        try flow.write(to: dir.appendingPathComponent("a.PFM"))
        #expect(try FlowField.read(contentsOf: dir.appendingPathComponent("a.flo")) == flow)
        #expect(try FlowField.read(contentsOf: dir.appendingPathComponent("a.PFM")) == flow)
        #expect(throws: FlowFileError.self) { try flow.write(to: dir.appendingPathComponent("a.txt")) }
        #expect(throws: FlowFileError.self) { try flow.write(to: dir.appendingPathComponent("missing/a.flo")) }
        // Unknown content and extension; empty files; missing files.
        try Data("hello".utf8).write(to: dir.appendingPathComponent("x.txt"))
        #expect(throws: FlowFileError.unknownFormat(file: dir.appendingPathComponent("x.txt").path,
                                                     detail: "it starts with bytes 68 65 6c 6c")) {
            try FlowField.read(contentsOf: dir.appendingPathComponent("x.txt"))
        }
        try Data().write(to: dir.appendingPathComponent("empty.flo"))
        #expect(throws: FlowFileError.sizeMismatch(file: dir.appendingPathComponent("empty.flo").path, expectedBytes: 12, actualBytes: 0)) {
            try FlowField.read(contentsOf: dir.appendingPathComponent("empty.flo"))
        }
        do { _ = try FlowField.read(contentsOf: dir.appendingPathComponent("none.flo")); Issue.record("read") } catch {
            guard case .unreadable = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("none.flo"))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.hasSuffix(".tmp") })
    }
}
