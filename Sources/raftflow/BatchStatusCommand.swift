import ArgumentParser
import Foundation
import RAFTKit

struct BatchStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch-status",
        abstract: "Merge the shard reports of `raftflow batch` and list the items still missing.",
        discussion: """
        Reads OUT/.raftflow-batch/shard-*.json and the manifest they name (or --manifest), checks on disk \
        which items have all their outputs, and prints per shard what was done, skipped and failed, then \
        every missing item with its shard and, when a shard reported it failed, the reason.

        Exit status: 0 when every item is complete, 1 when items are missing, 65 when the manifest or the \
        reports cannot be read, 64 for a usage error.

        Examples:
          raftflow batch-status flows/
          raftflow batch-status flows/ --manifest items.jsonl --json
        """
    )

    @Argument(help: "The output directory of `raftflow batch`.", completion: .directory)
    var outputDir: String
    @Option(name: .long, help: "The manifest (default: the one the shard reports name).")
    var manifest: String?
    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    /// A missing item: where it is in the manifest, its shard, and the last failure a shard reported for it.
    struct Missing: Encodable {
        var item: Int
        var line: Int
        var output: String
        var shard: Int?
        var reason: String?
    }

    /// One shard report, summarised.
    struct ShardSummary: Encodable {
        var shard: Int
        var shards: Int
        var finished: Bool
        var updated: String
        var done: Int
        var skipped: Int
        var failed: Int
        var seconds: Double
        var itemsPerSecond: Double
        var host: String
    }

    struct Summary: Encodable {
        var manifest: String
        var items: Int
        var complete: Int
        var missing: [Missing]
        var shards: [ShardSummary]
        /// Shards (of the shard count in the reports) that have no report.
        var shardsWithoutReport: [Int]
        /// Reports that could not be read, or that name another manifest.
        var problems: [String]
    }

    func run() throws {
        try reportingInputErrors { try runStatus() }
    }

    private func runStatus() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: outputDir, isDirectory: &isDir), isDir.boolValue else {
            throw InputError(file: outputDir, reason: "no such directory")
        }
        var (reports, problems) = BatchReport.all(in: outputDir)
        guard let manifestPath = manifest ?? reports.first?.report.manifest else {
            throw InputError(file: BatchReport.directory(in: outputDir),
                             reason: "no shard reports (has `raftflow batch` run here?); give --manifest to list the missing items")
        }
        let manifest = try BatchManifest(contentsOf: manifestPath)
        // Reports of another manifest are not merged.
        let canonical = canonicalPath(manifestPath)
        reports.removeAll { entry in
            guard canonicalPath(entry.report.manifest) != canonical else { return false }
            problems.append("\(entry.path): a report for another manifest, \(entry.report.manifest)")
            return true
        }
        let kitti = reports.contains { $0.report.kitti }
        let counts = Set(reports.map(\.report.shards))
        if counts.count > 1 {
            problems.append("the reports are from runs with different shard counts (\(counts.sorted().map(String.init).joined(separator: ", ")))")
        }
        let shardCount = counts.count == 1 ? counts.first : nil

        // The latest failure reason per item, from the reports in update order.
        var reasons: [Int: String] = [:]
        for (_, report) in reports.sorted(by: { $0.report.updated < $1.report.updated }) {
            for entry in report.failed { reasons[entry.item] = entry.reason }
            for entry in report.done + report.skipped { reasons[entry.item] = nil }
        }
        var missing: [Missing] = []
        for item in manifest.items where !item.isComplete(in: outputDir, kitti: kitti) {
            missing.append(Missing(item: item.index, line: item.line, output: item.output,
                                   shard: shardCount.map { item.index % $0 }, reason: reasons[item.index]))
        }
        let shards = reports.map { _, r in
            ShardSummary(shard: r.shard, shards: r.shards, finished: r.finished != nil, updated: r.updated, done: r.done.count,
                         skipped: r.skipped.count, failed: r.failed.count, seconds: r.seconds, itemsPerSecond: r.itemsPerSecond,
                         host: r.host)
        }
        let reported = Set(reports.filter { $0.report.shards == shardCount }.map(\.report.shard))
        let withoutReport = shardCount.map { n in (0..<n).filter { !reported.contains($0) } } ?? []
        let summary = Summary(manifest: manifestPath, items: manifest.items.count, complete: manifest.items.count - missing.count,
                              missing: missing, shards: shards, shardsWithoutReport: withoutReport, problems: problems)

        if json {
            print(try jsonString(summary))
        } else {
            print("\(manifestPath): \(summary.items) item(s), \(summary.complete) complete, \(missing.count) missing")
            for s in shards {
                let state = s.finished ? "finished \(s.updated)" : "not finished (killed or still running; last update \(s.updated))"
                print("shard \(s.shard)/\(s.shards): \(state) on \(s.host): \(s.done) done, \(s.skipped) skipped, \(s.failed) failed, \(formatSeconds(s.seconds)), \(String(format: "%.2f", s.itemsPerSecond)) items/s")
            }
            for shard in withoutReport { print("shard \(shard)/\(shardCount!): no report") }
            for problem in problems { print("warning: \(problem)") }
            for m in missing {
                var line = "missing: item \(m.item) (line \(m.line)) \(m.output)"
                if let shard = m.shard { line += ", shard \(shard)/\(shardCount!)" }
                if let reason = m.reason { line += ": failed: \(reason)" }
                print(line)
            }
        }
        if !missing.isEmpty { throw ExitCode(1) }
    }
}
