import Foundation
import Testing
@testable import RAFTKit

/// `raftflow batch` and `batch-status`: sharding by several processes, resume, failures, environment defaults,
/// manifest errors.
@Suite("raftflow batch")
struct CLIBatchTests {
    /// A running `raftflow` with a chosen environment (scheduler variables of the test's own environment removed),
    /// one OpenBLAS thread; output captured in files.
    final class Launched {
        let process = Process()
        let capture: URL
        let arguments: [String]

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            self.arguments = arguments
            process.executableURL = try RAFTFlowCLI.binary()
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") && $0.key != "JOB_COMPLETION_INDEX" }
            env["OPENBLAS_NUM_THREADS"] = "1"
            env["COLUMNS"] = "80"
            env.merge(environment) { $1 }
            process.environment = env
            capture = FileManager.default.temporaryDirectory.appendingPathComponent("raftflow-batch-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
            for name in ["stdout", "stderr"] { try Data().write(to: capture.appendingPathComponent(name)) }
            process.standardOutput = try FileHandle(forWritingTo: capture.appendingPathComponent("stdout"))
            process.standardError = try FileHandle(forWritingTo: capture.appendingPathComponent("stderr"))
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        deinit { try? FileManager.default.removeItem(at: capture) }

        /// Waits (at most `timeout` seconds) and returns what it printed; a death by signal is a test failure
        /// unless `killed` (the test sent it).
        func wait(timeout: Double = 120, killed: Bool = false) throws -> RAFTFlowCLI.Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning {
                if Date() > deadline {
                    process.terminate()
                    process.waitUntilExit()
                    throw RAFTFlowCLI.Failure(description: "raftflow \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
                }
                usleep(2_000)
            }
            process.waitUntilExit()
            let result = RAFTFlowCLI.Result(
                status: process.terminationStatus,
                stdout: String(decoding: try Data(contentsOf: capture.appendingPathComponent("stdout")), as: UTF8.self),
                stderr: String(decoding: try Data(contentsOf: capture.appendingPathComponent("stderr")), as: UTF8.self))
            if process.terminationReason == .uncaughtSignal && !killed {
                Issue.record("raftflow \(arguments.joined(separator: " ")) crashed with signal \(result.status); stderr: \(result.stderr)")
            }
            return result
        }
    }

    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> RAFTFlowCLI.Result {
        try Launched(arguments, environment: environment).wait()
    }

    /// Frames a0…a5 (the texture moved by 1.5 px per frame, 0.5 px down on odd ones), a frame folder `clip` of
    /// three frames, and a manifest of four pairs (one with 3 iterations, one in a subdirectory) and the folder:
    /// five items, so shards 0/2 and 1/2 get items 0, 2, 4 and 1, 3.
    private func dataset(in scratch: CLIScratch, manifestName: String = "items.jsonl") throws -> String {
        try scratch.directory("frames")
        try scratch.directory("frames/clip")
        for k in 0..<6 { try CLIInputs.writeFrame("frames/a\(k).png", in: scratch, dx: 1.5 * Float(k), dy: Float(k % 2) / 2) }
        for k in 0..<3 { try CLIInputs.writeFrame("frames/clip/f\(k).png", in: scratch, dx: -Float(k), dy: Float(k)) }
        let lines = [
            #"{"frame1": "frames/a0.png", "frame2": "frames/a1.png", "output": "p0"}"#,
            #"{"frame1": "frames/a1.png", "frame2": "frames/a2.png", "output": "sub/p1", "iterations": 3}"#,
            #"{"frames": "frames/clip"}"#,
            #"{"frame1": "frames/a3.png", "frame2": "frames/a4.png", "output": "p3.flo"}"#,
            #"{"frame1": "frames/a4.png", "frame2": "frames/a5.png", "output": "p4"}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: scratch.url.appendingPathComponent(manifestName))
        return scratch.path(manifestName)
    }

    /// The files under `dir` (relative paths, sorted), the reports' folder left out.
    private func outputFiles(_ dir: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: dir)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasPrefix(".raftflow-batch") { continue }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + path, isDirectory: &isDir), !isDir.boolValue { files.append(path) }
        }
        return files.sorted()
    }

    private func report(_ dir: String, _ shard: String) throws -> [String: Any] {
        try jsonObject(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/.raftflow-batch/shard-\(shard).json")), as: UTF8.self))
    }

    private func items(_ report: [String: Any], _ key: String) -> [Int] {
        ((report[key] as? [[String: Any]]) ?? []).compactMap { $0["item"] as? Int }
    }

    static let expectedFiles = ["clip/f0.flo", "clip/f0.png", "clip/f1.flo", "clip/f1.png", "p0.flo", "p0.png",
                                "p3.flo", "p3.png", "p4.flo", "p4.png", "sub/p1.flo", "sub/p1.png"]

    @Test func twoShardProcessesMatchOneUnshardedRun() throws {
        let scratch = try CLIScratch()
        let manifest = try dataset(in: scratch)
        let whole = try scratch.directory("whole"), sharded = try scratch.directory("sharded")
        let common = ["--iterations", "2"]
        let one = try run(["batch", manifest, "--output-dir", whole] + common)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.contains("shard 0/1") && one.stdout.contains("5 done, 0 skipped, 0 failed"), "\(one.stdout)")
        #expect(outputFiles(whole) == Self.expectedFiles)

        // Two processes at once, as two array tasks would run.
        let s0 = try Launched(["batch", manifest, "--output-dir", sharded, "--shard", "0/2"] + common)
        let s1 = try Launched(["batch", manifest, "--output-dir", sharded, "--shard", "1/2"] + common)
        let r0 = try s0.wait(), r1 = try s1.wait()
        #expect(r0.status == 0 && r1.status == 0, "\(r0.stderr) \(r1.stderr)")
        #expect(r0.stdout.contains("shard 0/2 (--shard): 3 of 5 item(s): 3 done"), "\(r0.stdout)")
        #expect(r1.stdout.contains("shard 1/2 (--shard): 2 of 5 item(s): 2 done"), "\(r1.stdout)")
        #expect(outputFiles(sharded) == Self.expectedFiles)
        for file in Self.expectedFiles {
            #expect(try Data(contentsOf: URL(fileURLWithPath: whole + "/" + file)) == Data(contentsOf: URL(fileURLWithPath: sharded + "/" + file)),
                    "\(file) differs between the sharded and the unsharded run")
        }
        let report0 = try report(sharded, "0-of-2"), report1 = try report(sharded, "1-of-2")
        #expect(items(report0, "done") == [0, 2, 4] && items(report1, "done") == [1, 3])
        #expect(report0["finished"] is String && report0["shardSource"] as? String == "--shard")
        #expect((report0["done"] as? [[String: Any]])?[1]["pairs"] as? Int == 2, "the folder item computes 2 pairs")

        // A pair is what `raftflow flow` writes; the folder is what `raftflow sequence` writes.
        let frames = scratch.path("frames")
        let flow = try RAFTFlowCLI.run(["flow", frames + "/a1.png", frames + "/a2.png", "--iterations", "3",
                                        "--output", scratch.path("p1.flo"), "--visualization", scratch.path("p1.png")])
        #expect(flow.status == 0, "\(flow.stderr)")
        for ext in ["flo", "png"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("p1.\(ext)"))) == Data(contentsOf: URL(fileURLWithPath: whole + "/sub/p1.\(ext)")))
        }
        let seq = try scratch.directory("seq")
        #expect(try RAFTFlowCLI.run(["sequence", frames + "/clip", "--output-dir", seq] + common).status == 0)
        for name in ["f0.flo", "f0.png", "f1.flo", "f1.png"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: seq + "/" + name)) == Data(contentsOf: URL(fileURLWithPath: whole + "/clip/" + name)))
        }

        // The same items as CSV give the same files.
        let csv = """
            frame1,frame2,output,frames,iterations
            frames/a0.png,frames/a1.png,p0,,
            "frames/a1.png",frames/a2.png,sub/p1,,3
            ,,,frames/clip,
            frames/a3.png,frames/a4.png,p3,,
            frames/a4.png, frames/a5.png ,p4,,\r\n
            """
        try Data(csv.utf8).write(to: scratch.url.appendingPathComponent("items.csv"))
        let fromCSV = try scratch.directory("csv")
        let c = try run(["batch", scratch.path("items.csv"), "--output-dir", fromCSV, "--quiet"] + common)
        #expect(c.status == 0 && c.stderr.isEmpty, "\(c.stderr)")
        #expect(outputFiles(fromCSV) == Self.expectedFiles)
        for file in Self.expectedFiles {
            #expect(try Data(contentsOf: URL(fileURLWithPath: whole + "/" + file)) == Data(contentsOf: URL(fileURLWithPath: fromCSV + "/" + file)))
        }

        // batch-status merges both reports: everything is there.
        let status = try run(["batch-status", sharded])
        #expect(status.status == 0, "\(status.stdout) \(status.stderr)")
        #expect(status.stdout.contains("5 item(s), 5 complete, 0 missing"), "\(status.stdout)")
        #expect(status.stdout.contains("shard 0/2: finished") && status.stdout.contains("shard 1/2: finished"), "\(status.stdout)")
    }

    @Test func rerunDoesOnlyMissingItemsAndResumesAfterAKill() throws {
        let scratch = try CLIScratch()
        let manifest = try dataset(in: scratch)
        let out = try scratch.directory("out")
        let common = ["--iterations", "2", "--shard", "0/2"]
        #expect(try run(["batch", manifest, "--output-dir", out] + common).status == 0)
        let reference = try Data(contentsOf: URL(fileURLWithPath: out + "/p4.png"))

        // Partial outputs, and the temporary file of a killed writer: only item 4 (and the folder's one missing
        // pair) are recomputed; the temporary is removed.
        try FileManager.default.removeItem(atPath: out + "/p4.png")
        try FileManager.default.removeItem(atPath: out + "/clip/f1.flo")
        try scratch.write([1, 2, 3], to: "out/.p4.png.12345.tmp")
        let rerun = try run(["batch", manifest, "--output-dir", out] + common)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("3 of 5 item(s): 2 done, 1 skipped, 0 failed"), "\(rerun.stdout)")
        let r = try report(out, "0-of-2")
        #expect(items(r, "done") == [2, 4] && items(r, "skipped") == [0])
        #expect((r["done"] as? [[String: Any]])?.first?["pairs"] as? Int == 1, "only the folder's missing pair is computed")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/p4.png")) == reference)
        #expect(!FileManager.default.fileExists(atPath: out + "/.p4.png.12345.tmp"))
        // The other shard's items were never touched.
        #expect(!FileManager.default.fileExists(atPath: out + "/sub/p1.flo") && !FileManager.default.fileExists(atPath: out + "/p3.flo"))

        // batch-status: shard 1 has no report, its items are missing.
        let status = try run(["batch-status", out])
        #expect(status.status == 1, "\(status.stdout)")
        #expect(status.stdout.contains("5 item(s), 3 complete, 2 missing"), "\(status.stdout)")
        #expect(status.stdout.contains("shard 1/2: no report"), "\(status.stdout)")
        #expect(status.stdout.contains("missing: item 1 (line 2) sub/p1, shard 1/2")
                && status.stdout.contains("missing: item 3 (line 4) p3, shard 1/2"), "\(status.stdout)")

        // A run killed part-way leaves whole items only (and an unfinished report); the re-run does exactly the rest.
        let many = try scratch.directory("many")
        let lines = (0..<12).map { k in #"{"frame1": "frames/a\#(k % 5).png", "frame2": "frames/a\#(k % 5 + 1).png", "output": "q\#(k)"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: scratch.url.appendingPathComponent("many.jsonl"))
        let killed = try Launched(["batch", scratch.path("many.jsonl"), "--output-dir", many, "--iterations", "2"])
        let deadline = Date().addingTimeInterval(60)
        while killed.process.isRunning && !FileManager.default.fileExists(atPath: many + "/q1.png") && Date() < deadline { usleep(2_000) }
        kill(killed.process.processIdentifier, SIGKILL)
        _ = try killed.wait(killed: true)
        let complete = (0..<12).filter { k in ["flo", "png"].allSatisfy { FileManager.default.fileExists(atPath: many + "/q\(k).\($0)") } }
        #expect(outputFiles(many).count == 2 * complete.count, "a killed run left a partial item: \(outputFiles(many))")
        let resumed = try run(["batch", scratch.path("many.jsonl"), "--output-dir", many, "--iterations", "2"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("\(12 - complete.count) done, \(complete.count) skipped, 0 failed"), "\(resumed.stdout)")
        #expect(outputFiles(many).count == 24)
    }

    @Test func failedItemsAreRecordedAndDoNotStopTheShard() throws {
        let scratch = try CLIScratch()
        try scratch.directory("frames")
        try CLIInputs.writeFrame("frames/a.png", in: scratch)
        try CLIInputs.writeFrame("frames/b.png", in: scratch, dx: 1)
        try CLIInputs.writeFrame("frames/small.png", in: scratch, width: 96, height: 96)
        try scratch.write(Array("not a png".utf8), to: "frames/bad.png")
        let lines = [
            #"{"frame1": "frames/a.png", "frame2": "frames/missing.png", "output": "m"}"#,
            #"{"frame1": "frames/a.png", "frame2": "frames/small.png", "output": "s"}"#,
            #"{"frame1": "frames/a.png", "frame2": "frames/b.png", "output": "good"}"#,
            #"{"frame1": "frames/bad.png", "frame2": "frames/b.png", "output": "bad"}"#,
            #"{"frame1": "frames/a.png", "frame2": "frames/b.png", "output": "w", "weights": "nothing.pth"}"#,
            #"{"frame1": "frames/a.png", "frame2": "frames/b.png", "output": "good2", "iterations": 1}"#,
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: scratch.url.appendingPathComponent("items.jsonl"))
        let out = try scratch.directory("out")
        let result = try run(["batch", scratch.path("items.jsonl"), "--output-dir", out, "--iterations", "2"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stdout.contains("2 done, 0 skipped, 4 failed"), "\(result.stdout)")
        #expect(outputFiles(out) == ["good.flo", "good.png", "good2.flo", "good2.png"])
        let failures = result.stderrLines.filter { $0.contains("failed:") }
        #expect(failures.count == 4, "\(result.stderr)")
        let r = try report(out, "0-of-1")
        let failed = try #require(r["failed"] as? [[String: Any]])
        #expect(failed.compactMap { $0["item"] as? Int } == [0, 1, 3, 4])
        let reasons = failed.compactMap { $0["reason"] as? String }
        #expect(reasons.count == 4)
        if reasons.count == 4 {
            #expect(reasons[0].contains("missing.png"), "\(reasons[0])")
            #expect(reasons[1].contains("small.png") && reasons[1].contains("96x96"), "\(reasons[1])")
            #expect(reasons[2].contains("bad.png"), "\(reasons[2])")
            #expect(reasons[3].contains("nothing.pth"), "\(reasons[3])")
        }
        #expect(failed.allSatisfy { $0["exitStatus"] as? Int == 65 && $0["line"] is Int })

        // An output that cannot be written: exit 73 (the output name is a directory).
        try scratch.directory("out2/good.flo")
        let unwritable = try run(["batch", scratch.path("items.jsonl"), "--output-dir", scratch.path("out2"), "--shard", "2/6"])
        #expect(unwritable.status == 73, "\(unwritable.stderr)")
        #expect(unwritable.stderr.contains("good.flo"), "\(unwritable.stderr)")

        let status = try run(["batch-status", out, "--json"])
        #expect(status.status == 1)
        let summary = try jsonObject(status.stdout)
        let missing = try #require(summary["missing"] as? [[String: Any]])
        #expect(missing.compactMap { $0["item"] as? Int } == [0, 1, 3, 4])
        #expect((missing.first?["reason"] as? String)?.contains("missing.png") == true)
    }

    @Test func shardDefaultsFromTheEnvironment() throws {
        let scratch = try CLIScratch()
        try scratch.directory("frames")
        try CLIInputs.writeFrame("frames/a.png", in: scratch)
        try CLIInputs.writeFrame("frames/b.png", in: scratch, dx: 1)
        let lines = (0..<4).map { #"{"frame1": "frames/a.png", "frame2": "frames/b.png", "output": "o\#($0)"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: scratch.url.appendingPathComponent("items.jsonl"))
        let manifest = scratch.path("items.jsonl")
        func batch(_ out: String, _ extra: [String] = [], _ environment: [String: String]) throws -> RAFTFlowCLI.Result {
            try run(["batch", manifest, "--output-dir", try scratch.directory(out), "--iterations", "1", "--quiet"] + extra,
                    environment: environment)
        }
        // A Slurm array --array=1-2: task 2 is shard 1 of 2 (items 1 and 3).
        let slurm = try batch("slurm", [], ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "2",
                                            "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_JOB_ID": "77"])
        #expect(slurm.status == 0, "\(slurm.stderr)")
        #expect(slurm.stdout.contains("shard 1/2 (Slurm array)"), "\(slurm.stdout)")
        #expect(outputFiles(scratch.path("slurm")) == ["o1.flo", "o1.png", "o3.flo", "o3.png"])
        let r = try report(scratch.path("slurm"), "1-of-2")
        #expect(r["slurmArrayTaskID"] as? Int == 2 && r["slurmArrayJobID"] as? String == "77")

        // A resubmitted task of --array=0-3 (sbatch --array=2 sees MIN 2, COUNT 1) keeps its shard with --shard-count.
        let resubmitted = try batch("resubmitted", ["--shard-count", "4"],
                                    ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "2", "SLURM_ARRAY_TASK_MAX": "2", "SLURM_ARRAY_TASK_COUNT": "1"])
        #expect(resubmitted.status == 0 && resubmitted.stdout.contains("shard 2/4"), "\(resubmitted.stdout) \(resubmitted.stderr)")
        #expect(outputFiles(scratch.path("resubmitted")) == ["o2.flo", "o2.png"])

        // Kubernetes: JOB_COMPLETION_INDEX with --shard-count.
        let k8s = try batch("k8s", ["--shard-count", "4"], ["JOB_COMPLETION_INDEX": "3"])
        #expect(k8s.status == 0 && k8s.stdout.contains("shard 3/4 (Kubernetes indexed job)"), "\(k8s.stdout) \(k8s.stderr)")
        #expect(outputFiles(scratch.path("k8s")) == ["o3.flo", "o3.png"])

        // --shard wins over the environment.
        let explicit = try batch("explicit", ["--shard", "0/4"], ["JOB_COMPLETION_INDEX": "3"])
        #expect(explicit.status == 0 && outputFiles(scratch.path("explicit")) == ["o0.flo", "o0.png"], "\(explicit.stderr)")

        // Usage errors: one line naming the problem, exit 64, nothing written.
        let usage: [([String], [String: String], String)] = [
            ([], ["JOB_COMPLETION_INDEX": "1"], "--shard-count"),
            (["--shard-count", "2"], ["JOB_COMPLETION_INDEX": "2"], "JOB_COMPLETION_INDEX 2"),
            (["--shard-count", "2"], [:], "--shard-count needs"),
            ([], ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"], "SLURM_ARRAY_TASK_ID='x'"),
            ([], ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6", "SLURM_ARRAY_TASK_COUNT": "3"], "not a range without gaps"),
            (["--shard-count", "4"], ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "1"], "number the array 0-3"),
            (["--shard", "2/2"], [:], "--shard"),
            (["--shard", "0/2", "--shard-count", "3"], [:], "disagree"),
        ]
        for (k, (extra, environment, message)) in usage.enumerated() {
            let result = try batch("usage\(k)", extra, environment)
            #expect(result.status == 64, "\(extra) \(environment): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(extra) \(environment): \(result.stderr)")
            #expect(try scratch.contents("usage\(k)").isEmpty)
        }

        // The array above counted from 1: resubmitting its task 1 alone would make task 1 shard 1, which task 2 ran.
        let renumbered = try batch("slurm", ["--shard-count", "2"], ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1",
                                                                     "SLURM_ARRAY_TASK_MAX": "1", "SLURM_ARRAY_TASK_COUNT": "1"])
        #expect(renumbered.status == 64 && renumbered.stderr.contains("number the array from 0"), "\(renumbered.stderr)")

        // A shard count from the environment that does not match the reports already in the directory is refused.
        let mismatch = try batch("slurm", [], ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "2",
                                               "SLURM_ARRAY_TASK_COUNT": "3"])
        #expect(mismatch.status == 64 && mismatch.stderr.contains("--shard-count 2"), "\(mismatch.stderr)")
    }

    @Test func manifestErrorsNameTheFileAndLine() throws {
        let scratch = try CLIScratch()
        let pair = #"{"frame1": "a.png", "frame2": "b.png", "output": "o"}"#
        let cases: [(name: String, text: String, message: String)] = [
            ("bad.jsonl", pair + "\n\n{\"frame1\": \"a.png\",\n", "bad.jsonl:3: not a JSON object"),
            ("unknown.jsonl", #"{"frame1": "a.png", "frame2": "b.png", "output": "o", "iteration": 3}"#, "unknown.jsonl:1: unknown field 'iteration'"),
            ("nooutput.jsonl", pair + "\n" + #"{"frame1": "a.png", "frame2": "b.png"}"#, "nooutput.jsonl:2: a pair needs an 'output' name"),
            ("iterations.jsonl", #"{"frames": "clip", "iterations": 0}"#, "iterations.jsonl:1: 'iterations' must be between 1 and 1000"),
            ("fraction.jsonl", #"{"frames": "clip", "iterations": 2.5}"#, "fraction.jsonl:1: 'iterations' must be a whole number"),
            ("escape.jsonl", #"{"frame1": "a.png", "frame2": "b.png", "output": "../o"}"#, "escape.jsonl:1: output '../o' must be a relative name"),
            ("twice.jsonl", pair + "\n" + pair, "twice.jsonl:2: output 'o' is also the output of line 1"),
            ("inside.jsonl", #"{"frames": "clip", "output": "c"}"# + "\n" + #"{"frame1": "a.png", "frame2": "b.png", "output": "c/x"}"#,
             "inside.jsonl:2: output 'c/x' is inside the frame folder output 'c' of line 1"),
            ("both.jsonl", #"{"frame1": "a.png", "frame2": "b.png", "frames": "clip", "output": "o"}"#, "both.jsonl:1: an item is either a pair"),
            ("half.jsonl", #"{"frame1": "a.png", "output": "o"}"#, "half.jsonl:1: a pair needs both"),
            ("video.jsonl", #"{"video": "clip.mp4"}"#, "video.jsonl:1: video items are not supported yet"),
            ("warm.jsonl", #"{"frames": "clip", "warm_start": "maybe"}"#, "warm.jsonl:1: 'warm_start' of a frame folder is true or false"),
            ("empty.jsonl", "\n\n", "empty.jsonl: the manifest has no items"),
            ("cells.csv", "frame1,frame2,output\na.png,b.png,o\na.png,b.png\n", "cells.csv:3: 2 cell(s), but the header has 3 column(s)"),
            ("column.csv", "frame1,frame2,out\n", "column.csv:1: unknown column 'out'"),
            ("quote.csv", "frame1,frame2,output\n\"a.png,b.png,o\n", "quote.csv:2: a quoted cell is not closed"),
            ("csvnum.csv", "frames,iterations\nclip,twelve\n", "csvnum.csv:2: 'iterations' must be a whole number, not 'twelve'"),
            ("missing.jsonl", "", "missing.jsonl: no such file"),
        ]
        for (name, text, message) in cases {
            if name != "missing.jsonl" { try Data(text.utf8).write(to: scratch.url.appendingPathComponent(name)) }
            let out = try scratch.directory("out-" + name)
            let result = try run(["batch", scratch.path(name), "--output-dir", out])
            #expect(result.status == 65, "\(name): \(result.stderr)")
            #expect(result.stderrLines.count == 1 && result.stderr.contains(message), "\(name): \(result.stderr)")
            #expect(try scratch.contents("out-" + name).isEmpty, "\(name): something was written")
        }
        // A missing output directory: 73.
        try Data(pair.utf8).write(to: scratch.url.appendingPathComponent("ok.jsonl"))
        let noDir = try run(["batch", scratch.path("ok.jsonl"), "--output-dir", scratch.path("nowhere")])
        #expect(noDir.status == 73 && noDir.stderr.contains("nowhere"), "\(noDir.stderr)")
        // batch-status with no reports and no --manifest.
        let status = try run(["batch-status", try scratch.directory("empty")])
        #expect(status.status == 65 && status.stderr.contains("no shard reports"), "\(status.stderr)")
    }
}
