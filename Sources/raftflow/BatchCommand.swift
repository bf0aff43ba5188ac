import ArgumentParser
import Foundation
import RAFTKit

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Estimate flow for the items of a manifest, or for one shard of them (cluster job arrays).",
        discussion: """
        MANIFEST is JSON Lines (one object per line) or CSV (a header row, then one item per row). An item is \
        an image pair {"frame1": "a.png", "frame2": "b.png", "output": "clip/0001"}, written as \
        OUT/clip/0001.flo and .png as `raftflow flow` writes them, or a frame folder {"frames": "clip/", \
        "output": "clip"}, written into OUT/clip/ as `raftflow sequence` writes it. Items may set \
        "iterations", "weights" and "warm_start" (a pair: a flow file; a folder: true or false). Relative \
        paths are relative to the manifest.

        Item k (from 0, in file order) belongs to shard k mod N. The shard is --shard I/N; else, in a Slurm \
        job array, SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT (with --shard-count N \
        and fewer tasks than N, as when some tasks are resubmitted, the task ID itself); else, in a Kubernetes \
        Indexed Job, JOB_COMPLETION_INDEX of --shard-count; else every item. Without --threads, \
        SLURM_CPUS_PER_TASK sets the threads.

        Outputs are written atomically; items whose outputs all exist are skipped (unless --overwrite), so a \
        re-run does only what is missing. A failed item is reported and the shard goes on. Each shard writes \
        OUT/.raftflow-batch/shard-I-of-N.json (done, skipped, failed with reasons); `raftflow batch-status OUT` \
        merges them. Exit status: 0 when every item of the shard is done or skipped, 65 when an item had bad \
        input, 73 when an output could not be written (73 wins), 64 for a usage error.

        Examples:
          raftflow batch items.jsonl --output-dir flows/
          raftflow batch items.csv --output-dir flows/ --shard 1/4 --threads 1
          sbatch --array=0-3 --wrap 'raftflow batch items.jsonl --output-dir flows/ --shard-count 4'
        """
    )

    @Argument(help: "The manifest: JSON Lines (.jsonl) or CSV (.csv).", completion: .file(extensions: ["jsonl", "csv"]))
    var manifest: String
    @Option(name: .long, help: "Directory for the outputs and the shard reports (must exist).")
    var outputDir: String
    @Option(name: .long, help: ArgumentHelp("Run shard I of N (0 ≤ I < N): items k with k mod N = I.", valueName: "I/N"))
    var shard: BatchShard?
    @Option(name: .long, help: ArgumentHelp("Number of shards, with the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID.", valueName: "N"))
    var shardCount: Int?
    @OptionGroup var modelOptions: ModelOptions
    @Flag(name: .long, help: "Frame folders: start each pair from the previous pair's flow (items may override).")
    var warmStart = false
    @Option(name: .long, help: "Flow magnitude (pixels) at full colour saturation (default: per pair, or per folder as in `sequence`).")
    var maxMagnitude: Float?
    @Flag(name: .long, help: "Also write KITTI 16-bit flow PNGs (<output>_kitti.png).")
    var kitti = false
    @Flag(name: .long, help: "Recompute items whose outputs exist.")
    var overwrite = false
    @Flag(name: .shortAndLong, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        try validateMaxMagnitude(maxMagnitude)
        _ = try BatchShard.resolve(option: shard, shardCount: shardCount, environment: ProcessInfo.processInfo.environment)
    }

    func run() throws {
        try reportingInputErrors { try runBatch() }
    }

    private func runBatch() throws {
        let environment = ProcessInfo.processInfo.environment
        let (shard, source) = try BatchShard.resolve(option: self.shard, shardCount: shardCount, environment: environment)
        try SequenceJob.checkOutputDirectory(outputDir)
        let manifest = try BatchManifest(contentsOf: self.manifest)
        try checkEarlierRuns(shard: shard, source: source, environment: environment)
        if modelOptions.threads == nil, let cpus = environment["SLURM_CPUS_PER_TASK"].flatMap({ Int($0) }), cpus >= 1 {
            BLAS.threads = cpus
        }

        let reportDir = BatchReport.directory(in: outputDir), reportPath = BatchReport.path(in: outputDir, shard: shard)
        do { try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true) } catch {
            throw OutputError(path: reportDir, reason: (error as NSError).localizedDescription)
        }
        let clock = ContinuousClock(), start = clock.now
        var report = BatchReport(
            manifest: canonicalPath(self.manifest), manifestItems: manifest.items.count, shard: shard.index, shards: shard.count,
            shardSource: source, slurmArrayJobID: environment["SLURM_ARRAY_JOB_ID"],
            slurmArrayTaskID: source == .slurm ? environment["SLURM_ARRAY_TASK_ID"].flatMap { Int($0) } : nil,
            host: ProcessInfo.processInfo.hostName, kitti: kitti, started: BatchReport.timestamp(),
            updated: BatchReport.timestamp(), finished: nil, seconds: 0, itemsPerSecond: 0)
        func save(finished: Bool) throws {
            let seconds = (clock.now - start).seconds
            report.seconds = seconds
            report.itemsPerSecond = seconds > 0 ? Double(report.done.count) / seconds : 0
            report.updated = BatchReport.timestamp()
            if finished { report.finished = report.updated }
            try report.write(to: reportPath)
        }
        try save(finished: false)   // an unwritable report fails now, before any work

        let mine = manifest.items.filter { shard.contains($0.index) }
        var estimators = EstimatorCache(options: modelOptions)
        for (n, item) in mine.enumerated() {
            let label = "item \(item.index) (\(self.manifest):\(item.line)) \(item.output)"
            let entry = BatchReport.Entry(item: item.index, line: item.line, output: item.output)
            if !overwrite, item.isComplete(in: outputDir, kitti: kitti) {
                report.skipped.append(entry)
                if !quiet { printError("[\(n + 1)/\(mine.count)] \(label): skipped (outputs exist)") }
                continue
            }
            let itemStart = clock.now
            do {
                let pairs = try run(item, estimators: &estimators)
                var done = entry
                done.pairs = pairs
                done.seconds = (clock.now - itemStart).seconds
                report.done.append(done)
                if !quiet { printError("[\(n + 1)/\(mine.count)] \(label): \(pairs) pair(s), \(formatSeconds(done.seconds!))") }
            } catch {
                var failed = entry
                failed.reason = "\(error)"
                failed.exitStatus = error is OutputError ? ExitStatus.cannotCreate.rawValue : ExitStatus.badInput.rawValue
                report.failed.append(failed)
                printError("raftflow: \(label) failed: \(error)")
            }
            try save(finished: false)
        }
        try save(finished: true)

        let computed = report.done.count
        print("shard \(shard) (\(source.rawValue)): \(mine.count) of \(manifest.items.count) item(s): \(computed) done, \(report.skipped.count) skipped, \(report.failed.count) failed; \(formatSeconds(report.seconds)), \(String(format: "%.2f", report.itemsPerSecond)) items/s; report \(reportPath)")
        if report.failed.contains(where: { $0.exitStatus == ExitStatus.cannotCreate.rawValue }) { throw ExitStatus.cannotCreate }
        if !report.failed.isEmpty { throw ExitStatus.badInput }
    }

    /// Refuses a shard chosen from the environment that does not fit the reports already in the output directory:
    /// another shard count, or this shard run before as another Slurm array task (an array not numbered from 0,
    /// resubmitted). `--shard` is taken as given.
    private func checkEarlierRuns(shard: BatchShard, source: BatchShard.Source, environment: [String: String]) throws {
        guard source == .slurm || source == .kubernetes else { return }
        for (path, report) in BatchReport.all(in: outputDir).reports {
            if report.shards != shard.count {
                throw ValidationError("this run is shard \(shard) (\(source.rawValue)), but \(path) is from a run with \(report.shards) shard(s): pass --shard-count \(report.shards), or use another output directory")
            }
            if source == .slurm, report.shard == shard.index, report.shardSource == .slurm,
               let earlier = report.slurmArrayTaskID, let now = environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }), earlier != now {
                throw ValidationError("Slurm array task \(now) would run shard \(shard), which \(path) says array task \(earlier) ran: number the array from 0 (--array=0-\(shard.count - 1)) so a resubmitted task keeps its shard")
            }
        }
    }

    /// Computes one item; returns the number of pairs computed.
    private func run(_ item: BatchItem, estimators: inout EstimatorCache) throws -> Int {
        let iterations = item.iterations ?? modelOptions.iterations
        switch item.input {
        case let .pair(frame1, frame2, warmPath):
            let outputs = item.pairOutputs(in: outputDir, kitti: kitti)
            try createParent(of: outputs[0])
            try checkOutputs(outputs, inputs: [frame1, frame2, warmPath, item.weights ?? modelOptions.weights])
            OutputBatch.removeStaleTemporaries(for: outputs)
            let estimator = try estimators.estimator(weights: item.weights)
            let image1 = try RGBImage(contentsOf: URL(fileURLWithPath: frame1))
            let image2 = try RGBImage(contentsOf: URL(fileURLWithPath: frame2))
            guard image1.width == image2.width && image1.height == image2.height else {
                throw FlowEstimatorError.sizeMismatch(first: frame1, firstSize: (image1.width, image1.height),
                                                      second: frame2, secondSize: (image2.width, image2.height))
            }
            let warm = try warmPath.map { path in
                let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: path))
                guard flow.width == image1.width && flow.height == image1.height else {
                    throw FlowEstimatorError.sizeMismatch(first: frame1, firstSize: (image1.width, image1.height),
                                                          second: path, secondSize: (flow.width, flow.height))
                }
                return flow
            }
            let correlation = try modelOptions.correlation(for: estimator, width: image1.width, height: image1.height, file: frame1)
            let result: FlowEstimate
            do {
                result = try estimator.estimate(from: image1, to: image2, iterations: iterations,
                                                padding: modelOptions.padding, warmStart: warm, correlation: correlation)
            } catch {
                if case FlowEstimatorError.nonFiniteFlow = error { throw error }   // names the weights, not the frames
                throw InputError(file: frame1, reason: "\(error)")   // e.g. non-finite samples
            }
            // The same files as `raftflow flow a b --output o.flo --visualization o.png [--kitti-output o_kitti.png]`.
            var batch = OutputBatch()
            try batch.add(result.flow, to: outputs[0], format: .middlebury)
            try batch.add(FlowVisualization.colorImage(result.flow, maximumMagnitude: maxMagnitude), to: outputs[1])
            if kitti { try batch.add(result.flow, to: outputs[2], format: .kittiPNG) }
            try batch.commit()
            return 1
        case let .folder(path, warm):
            let directory = item.folderOutput(in: outputDir)
            var job = SequenceJob(files: try SequenceJob.frames([path]), outputDir: directory, iterations: iterations,
                                  padding: modelOptions.padding, warmStart: warm ?? warmStart,
                                  maxMagnitude: maxMagnitude, kitti: kitti, overwrite: overwrite)
            try createDirectory(directory)
            try job.checkCanWrite(otherInputs: [item.weights ?? modelOptions.weights])
            let estimator = try estimators.estimator(weights: item.weights), options = modelOptions
            job.correlation = { width, height, file in
                try options.correlation(for: estimator, width: width, height: height, file: file, sequence: true)
            }
            return try job.run(estimator: { estimator }, progress: nil).computed
        }
    }

    private func createParent(of path: String) throws {
        try createDirectory((path as NSString).deletingLastPathComponent)
    }

    private func createDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw OutputError(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// The estimators of one batch run, loaded once per weights file (nil: the command's `--weights` or the bundled
/// model); a file that fails to load fails every item that names it, with the same error, without reloading.
struct EstimatorCache {
    var options: ModelOptions
    private var loaded: [String?: Result<FlowEstimator, Error>] = [:]

    init(options: ModelOptions) { self.options = options }

    mutating func estimator(weights: String?) throws -> FlowEstimator {
        if let cached = loaded[weights] { return try cached.get() }
        var options = options
        if let weights { options.weights = weights }
        let result = Result(catching: { try options.makeEstimator() })
        loaded[weights] = result
        return try result.get()
    }
}

extension BatchItem {
    /// Whether every output of the item exists (a folder: every pair's files; an unreadable folder: no).
    func isComplete(in outputDir: String, kitti: Bool) -> Bool {
        switch input {
        case .pair:
            return pairOutputs(in: outputDir, kitti: kitti).allSatisfy { FileManager.default.fileExists(atPath: $0) }
        case let .folder(path, _):
            guard let files = try? SequenceJob.frames([path]) else { return false }
            let job = SequenceJob(files: files, outputDir: folderOutput(in: outputDir), iterations: 1, padding: .sintel,
                                  warmStart: false, maxMagnitude: nil, kitti: kitti, overwrite: false)
            return job.pendingPairs.isEmpty
        }
    }
}
