import Foundation
import Testing
@testable import RAFTKit

/// README.md's library snippet is the code of ReadmeSnippet.swift, which this target compiles; the test checks the
/// two texts are the same and runs the snippet on a sample pair.
@Suite struct ReadmeSnippetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The lines between the markers of ReadmeSnippet.swift.
    static func snippet() throws -> String {
        let source = try String(contentsOf: root.appendingPathComponent("Tests/RAFTKitTests/Readme/ReadmeSnippet.swift"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex(of: "// README snippet begins"))
        let end = try #require(lines.firstIndex(of: "// README snippet ends"))
        return lines[(begin + 1)..<end].joined(separator: "\n")
    }

    @Test("README.md's library snippet is ReadmeSnippet.swift, line for line")
    func readmeHoldsTheCompiledSnippet() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let snippet = try Self.snippet()
        #expect(snippet.contains("import Foundation") && snippet.contains("FlowWarp.warp"))
        #expect(readme.contains("```swift\n" + snippet + "\n```"),
                "README.md's library snippet differs from Tests/RAFTKitTests/Readme/ReadmeSnippet.swift: copy the file's text between the markers into the README")
    }

    @Test("the snippet runs on Samples/layers-256x320 and writes its six files")
    func snippetRuns() throws {
        let sample = Self.root.appendingPathComponent("Samples/layers-256x320")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("raftkit-readme-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try estimateFlow(from: sample.appendingPathComponent("frame1.png").path, to: sample.appendingPathComponent("frame2.png").path,
                         into: scratch)
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(files == ["backward.flo", "flow.flo", "flow.png", "occlusion.png", "valid.png", "warped.png"])
    }
}
