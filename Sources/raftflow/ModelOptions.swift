import ArgumentParser
import Foundation
import RAFTKit

/// Options shared by the commands that run the network.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Weights: .pth (official or torchvision), or .safetensors. Default: the bundled model.",
                                            valueName: "file"),
            completion: .file(extensions: ["pth", "safetensors"]))
    var weights: String?

    @Option(name: .long, help: "Expected architecture (basic|small); detected from the weights, this only checks it.")
    var model: RAFTVariant?

    @Option(name: .long, parsing: .unconditional, help: "Number of recurrent refinement iterations.")
    var iterations: Int = 12

    @Option(name: .long, help: "Padding to a multiple of 8: sintel (centred) or kitti (bottom).")
    var padding: InputPadder.Mode = .sintel

    @Option(name: .long, parsing: .unconditional, help: "Threads to compute on (default: all cores, or OPENBLAS_NUM_THREADS).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Convolution arithmetic: f32, or bf16 (bfloat16 with float32 accumulation, on CPUs with AVX512_BF16; elsewhere f32 with a notice).", valueName: "f32|bf16"))
    var precision: Precision = .float32

    @Option(name: .long, help: ArgumentHelp("Memory the network may use, e.g. 2G, 512M (default: what the system has available). Above it the correlation is computed on demand; a frame that needs more even so is refused.", valueName: "size"))
    var maxMemory: MemorySize?

    func validate() throws {
        guard iterations >= 1 && iterations <= 1000 else { throw ValidationError("--iterations must be between 1 and 1000") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Loads the weights (or the bundled model) and checks the architecture.
    func makeEstimator() throws -> FlowEstimator {
        if let threads { BLAS.threads = threads }
        var estimator = try weights.map { try FlowEstimator(contentsOf: URL(fileURLWithPath: $0)) } ?? FlowEstimator.bundled()
        if precision == .bfloat16 && precision.effective != .bfloat16 {
            printError("raftflow: this CPU has no AVX512_BF16; --precision bf16 runs in f32")
        }
        estimator.precision = precision
        if let model, model != estimator.variant {
            throw InputError(file: weights ?? estimator.weights?.file ?? "the bundled model",
                             reason: "the weights are RAFT-\(estimator.variant.rawValue), but --model \(model.rawValue) was requested")
        }
        return estimator
    }

    /// The correlation strategy for `width × height` frames (one pair, or a sequence) within `--max-memory` or the
    /// memory available: all-pairs when it fits, on-demand when only that fits. Refuses frames that need more than
    /// that even on demand, naming `file`, before anything is allocated.
    func correlation(for estimator: FlowEstimator, width: Int, height: Int, file: String, sequence: Bool = false) throws -> CorrelationMode {
        let budget = maxMemory?.bytes ?? AvailableMemory.bytes()
        let model = estimator.model
        let automatic = CorrelationMode.automatic(memoryBudget: CorrelationMode.defaultMemoryBudget)
        let preferred = model.memoryEstimate(height: height, width: width, correlation: automatic, sequence: sequence)
        if budget == nil || preferred.totalBytes <= budget! { return preferred.correlation }
        let onDemand = model.memoryEstimate(height: height, width: width, correlation: .onDemand, sequence: sequence)
        guard onDemand.totalBytes <= budget! else {
            let limit = maxMemory == nil ? "the \(MemoryEstimate.format(budget!)) available" : "--max-memory \(MemoryEstimate.format(budget!))"
            throw InputError(file: file, reason: "\(width)x\(height) frames need about \(MemoryEstimate.format(onDemand.totalBytes)) even with on-demand correlation, more than \(limit); use smaller frames")
        }
        return .onDemand
    }
}

/// A byte count written as `2G`, `512M`, `64K` or plain bytes (binary units: 1G = 2³⁰ bytes).
struct MemorySize: ExpressibleByArgument {
    var bytes: Int

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let (k, m, g): (Double, Double, Double) = (1024, 1024 * 1024, 1024 * 1024 * 1024)
        let units: [(String, Double)] = [("GIB", g), ("MIB", m), ("KIB", k), ("GB", g), ("MB", m), ("KB", k),
                                         ("G", g), ("M", m), ("K", k), ("B", 1)]
        var number = Substring(text), scale = 1.0
        if let unit = units.first(where: { text.hasSuffix($0.0) }) {
            number = text.dropLast(unit.0.count)
            scale = unit.1
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale < 9e18 else { return nil }
        bytes = Int(value * scale)
    }
}

/// Memory this process can still use, in bytes: the least of the kernel's MemAvailable, the cgroup's
/// `memory.max − memory.current`, and `RLIMIT_AS` minus the address space already mapped; nil where none is known.
enum AvailableMemory {
    static func bytes() -> Int? {
        var limits: [Int] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let kb = field("MemAvailable:", in: meminfo) {
            limits.append(kb * 1024)
        }
        if let max = number(file: "/sys/fs/cgroup/memory.max"), let current = number(file: "/sys/fs/cgroup/memory.current") {
            limits.append(max - current)
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max,
           let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8), let vmKB = field("VmSize:", in: status) {
            limits.append(Int(clamping: limit.rlim_cur) - vmKB * 1024)
        }
        return limits.min().map { Swift.max($0, 0) }
    }

    private static func field(_ name: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        return nil
    }

    private static func number(file: String) -> Int? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

extension RAFTVariant: ExpressibleByArgument {}
extension InputPadder.Mode: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
