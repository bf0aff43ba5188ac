import ArgumentParser
import Foundation

/// Shard `index` of `count`: the manifest items k with k mod count == index.
struct BatchShard: Equatable, CustomStringConvertible, ExpressibleByArgument {
    var index: Int
    var count: Int

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// "I/N" with 0 ≤ I < N.
    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        self.init(index: i, count: n)
    }

    var description: String { "\(index)/\(count)" }

    /// Whether manifest item `k` belongs to this shard.
    func contains(_ k: Int) -> Bool { k % count == index }

    /// Where the shard came from, for the report and messages.
    enum Source: String, Codable {
        case option = "--shard", slurm = "Slurm array", kubernetes = "Kubernetes indexed job", none = "unsharded"
    }

    /// The shard to run: `--shard I/N` if given; else the scheduler's environment; else 0/1 (every item).
    ///
    /// - Slurm job array: `SLURM_ARRAY_TASK_ID` relative to `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT` tasks
    ///   (`--array=0-3` and `--array=1-4` both give shards 0…3 of 4); the array must be a range without gaps.
    ///   A resubmission of some tasks (`sbatch --array=2`) sees only its own tasks in MIN and COUNT, so with
    ///   `--shard-count N` and an array of fewer than N tasks the task ID itself is the shard: job scripts that
    ///   may be resubmitted number their arrays from 0 and pass `--shard-count`.
    /// - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` of `--shard-count` (the Job's `completions`), which the
    ///   environment does not give.
    ///
    /// - Throws: `ValidationError` (exit 64) naming the variable or option that is wrong.
    static func resolve(option: BatchShard?, shardCount: Int?, environment: [String: String]) throws -> (BatchShard, Source) {
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        if let option {
            if let shardCount, shardCount != option.count {
                throw ValidationError("--shard \(option) and --shard-count \(shardCount) disagree")
            }
            return (option, .option)
        }
        func integer(_ name: String) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw ValidationError("\(name)='\(text)' is not a non-negative whole number")
            }
            return value
        }
        if let id = try integer("SLURM_ARRAY_TASK_ID") {
            let minimum = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
            let maximum = try integer("SLURM_ARRAY_TASK_MAX")
            let tasks = try integer("SLURM_ARRAY_TASK_COUNT")
            let contiguous = tasks != nil && maximum.map { $0 - minimum + 1 == tasks } ?? true
            if let shardCount {
                // The whole array (N tasks without gaps): numbered from its minimum. Fewer tasks: a resubmission,
                // whose IDs are the shards.
                let index = tasks == shardCount && contiguous ? id - minimum : id
                guard (0..<shardCount).contains(index) else {
                    throw ValidationError("SLURM_ARRAY_TASK_ID \(id) is not a shard of --shard-count \(shardCount): number the array 0-\(shardCount - 1) (a resubmitted task's ID is its shard)")
                }
                return (BatchShard(index: index, count: shardCount), .slurm)
            }
            guard let tasks, tasks >= 1 else {
                throw ValidationError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shard-count")
            }
            guard contiguous, (0..<tasks).contains(id - minimum) else {
                throw ValidationError("the Slurm array (SLURM_ARRAY_TASK_MIN \(minimum), SLURM_ARRAY_TASK_MAX \(maximum ?? -1), SLURM_ARRAY_TASK_COUNT \(tasks)) is not a range without gaps: pass --shard-count")
            }
            return (BatchShard(index: id - minimum, count: tasks), .slurm)
        }
        if let index = try integer("JOB_COMPLETION_INDEX") {
            guard let shardCount else {
                throw ValidationError("JOB_COMPLETION_INDEX is set: pass --shard-count (the Job's completions)")
            }
            guard index < shardCount else {
                throw ValidationError("JOB_COMPLETION_INDEX \(index) is not below --shard-count \(shardCount)")
            }
            return (BatchShard(index: index, count: shardCount), .kubernetes)
        }
        if shardCount != nil {
            throw ValidationError("--shard-count needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment; otherwise give --shard I/N")
        }
        return (BatchShard(index: 0, count: 1), .none)
    }
}
