import Foundation
import RAFTKit

/// The JSON report of one shard of `raftflow batch`, at `<output dir>/.raftflow-batch/shard-<I>-of-<N>.json`.
/// It is rewritten (atomically) after every item, so a killed shard leaves a report with `finished` null that
/// says how far it got; `raftflow batch-status` merges the reports of all shards.
struct BatchReport: Codable {
    /// The manifest, as an absolute path.
    var manifest: String
    /// Items in the whole manifest.
    var manifestItems: Int
    var shard: Int
    var shards: Int
    /// How the shard was chosen (`--shard`, Slurm array, Kubernetes indexed job, unsharded).
    var shardSource: BatchShard.Source
    /// `SLURM_ARRAY_JOB_ID`/`SLURM_ARRAY_TASK_ID` or `JOB_COMPLETION_INDEX`, when set.
    var slurmArrayJobID: String?
    var slurmArrayTaskID: Int?
    var host: String
    var kitti: Bool
    /// ISO 8601 times; `finished` is nil while the shard runs, and stays nil if it was killed.
    var started: String
    var updated: String
    var finished: String?
    /// Seconds since the start, and computed items per second.
    var seconds: Double
    var itemsPerSecond: Double
    var done: [Entry] = []
    var skipped: [Entry] = []
    var failed: [Entry] = []

    /// One item: its manifest position (from 0) and line, its output name; for a computed item the pairs
    /// computed and the seconds taken, for a failed one the reason and the exit status it stands for (65: bad
    /// input, 73: an output cannot be written).
    struct Entry: Codable {
        var item: Int
        var line: Int
        var output: String
        var pairs: Int?
        var seconds: Double?
        var reason: String?
        var exitStatus: Int32?
    }

    /// The folder of the reports inside the output directory (hidden, so no item output can be named like it).
    static func directory(in outputDir: String) -> String { (outputDir as NSString).appendingPathComponent(".raftflow-batch") }

    /// The report file of `shard`.
    static func path(in outputDir: String, shard: BatchShard) -> String {
        (directory(in: outputDir) as NSString).appendingPathComponent("shard-\(shard.index)-of-\(shard.count).json")
    }

    /// Every readable report in `outputDir`, with its path, in shard order; unreadable ones are returned as
    /// problems (`path: reason`).
    static func all(in outputDir: String) -> (reports: [(path: String, report: BatchReport)], problems: [String]) {
        let dir = directory(in: outputDir)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasPrefix("shard-") && $0.hasSuffix(".json") }.sorted(by: naturalLess)
        var reports: [(String, BatchReport)] = [], problems: [String] = []
        for name in names {
            let path = (dir as NSString).appendingPathComponent(name)
            do {
                let data = try FileAccess.read(URL(fileURLWithPath: path), maxBytes: 256 << 20)
                reports.append((path, try JSONDecoder().decode(BatchReport.self, from: data)))
            } catch {
                problems.append("\(path): not a batch report (\(error is DecodingError ? "unexpected content" : "\(error)"))")
            }
        }
        return (reports, problems)
    }

    /// Writes the report atomically.
    func write(to path: String) throws {
        do { try FileAccess.writeAtomically(Data((try jsonString(self) + "\n").utf8), to: URL(fileURLWithPath: path)) } catch {
            throw OutputError(path: path, reason: (error as? FileAccess.Failure)?.reason ?? "\(error)")
        }
    }

    static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
