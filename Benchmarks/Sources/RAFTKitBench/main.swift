import Foundation
import RAFTKit

// raftkit-bench SUITE… [--repeats N] [--json FILE] [--pytorch FILE] [--threads N]
// Suites: kernels, update, loop, correlation, model, scaling, memory, receptive-field, sequence, all.  Build in release:
//   cd Benchmarks && swift run -c release raftkit-bench all --pytorch pytorch-times.json

var suites: [String] = []
var repeats = 5
var jsonPath: String?
var pytorchPath: String?
var singleVariant = RAFTVariant.basic
var chosenVariant: RAFTVariant?   // --variant given (the sequence suite runs both otherwise)
var singleSize = (width: 1024, height: 440)
var singleCorrelation = CorrelationMode.automatic(memoryBudget: CorrelationMode.defaultMemoryBudget)
var singlePrecision = Precision.float32
var singleWeights: String?   // --weights FILE: the single suite runs these instead of procedural weights
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
    switch a {
    case "--repeats": repeats = Int(arguments.next() ?? "") ?? repeats
    case "--json": jsonPath = arguments.next()
    case "--pytorch": pytorchPath = arguments.next()
    case "--threads": BLAS.threads = Int(arguments.next() ?? "") ?? BLAS.threads
    case "--variant":
        singleVariant = RAFTVariant(rawValue: arguments.next() ?? "") ?? singleVariant
        chosenVariant = singleVariant
    case "--size":
        let parts = (arguments.next() ?? "").split(separator: "x").compactMap { Int($0) }
        if parts.count == 2 { singleSize = (parts[0], parts[1]) }
    case "--weights": singleWeights = arguments.next()
    case "--correlation":
        switch arguments.next() {
        case "all-pairs": singleCorrelation = .allPairs
        case "on-demand": singleCorrelation = .onDemand
        default: singleCorrelation = .automatic(memoryBudget: CorrelationMode.defaultMemoryBudget)
        }
    case "--precision":
        let text = arguments.next() ?? ""
        guard let precision = Precision(rawValue: text) else {
            FileHandle.standardError.write(Data("raftkit-bench: --precision takes f32 or bf16, not '\(text)'\n".utf8))
            exit(64)
        }
        if precision.effective != precision {
            FileHandle.standardError.write(Data("raftkit-bench: this CPU has no AVX512_BF16; --precision bf16 runs in f32\n".utf8))
        }
        singlePrecision = precision
    case "-h", "--help":
        print("usage: raftkit-bench [kernels|update|loop|correlation|model|scaling|memory|receptive-field|sequence|single|all] [--variant basic|small --size WxH --correlation all-pairs|on-demand|automatic --precision f32|bf16 --weights FILE]… [--repeats N] [--json FILE] [--pytorch FILE] [--threads N]")
        exit(0)
    default: suites.append(a)
    }
}
if suites.isEmpty || suites.contains("all") { suites = ["kernels", "update", "loop", "correlation", "model", "scaling"] }

/// PyTorch timings written by Scripts/bench-pytorch (seconds by key), if given.
let pytorch: [String: Double] = {
    guard let pytorchPath, let data = FileManager.default.contents(atPath: pytorchPath),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let seconds = object["seconds"] as? [String: Any] else { return [:] }
    return seconds.compactMapValues { ($0 as? NSNumber)?.doubleValue }
}()
func ratio(_ ours: Double, _ key: String) -> String {
    guard let theirs = pytorch[key] else { return "–" }
    return String(format: "%.0f ms | %.2f× (%.0f %%)", theirs * 1000, theirs * 1000 / ours, 100 * ours / (theirs * 1000))
}

let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
    .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
print("Machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; OpenBLAS \(BLAS.coreName), \(BLAS.threads) threads; median of \(repeats) runs\n")

var report: [String: Any] = [:]
@MainActor func record<T: Encodable>(_ key: String, _ value: T) {
    if let data = try? JSONEncoder().encode(value), let object = try? JSONSerialization.jsonObject(with: data) {
        report[key] = object
    }
}

do {
    if suites.contains("kernels") {
        print("## Convolution core vs bare sgemm (same M×N×K, same run)\n")
        let r = try runKernelBenchmarks(repeats: repeats, pytorch: pytorch)
        printKernelTable(r)
        record("kernels", r)
        print()
    }
    if suites.contains("update") {
        print("## One update-block step at 55×128\n")
        print("| model | with mask head ms | without mask head ms | GMAC (with mask) | GFLOP/s | PyTorch with mask: ms, speed-up (RAFTKit %) |")
        print("|---|---:|---:|---:|---:|---|")
        let r = try runUpdateStepBenchmarks(repeats: repeats)
        for u in r {
            print("| \(u.variant) | \(String(format: "%.1f", u.withMaskMs)) | \(String(format: "%.1f", u.withoutMaskMs)) | \(String(format: "%.2f", u.gmac)) | \(String(format: "%.0f", u.gflops)) | \(ratio(u.variant == "basic" ? u.withMaskMs : u.withoutMaskMs, "update_step_\(u.variant)_55x128")) |")
        }
        record("update", r)
        print()
    }
    if suites.contains("loop") {
        print("## One iteration inside RAFT's loop at 1024×440 (55×128 grid): (T(13 iterations) − T(1)) / 12\n")
        print("| model | 1 iteration ms | 13 iterations ms | per iteration ms | PyTorch update step (with mask): ms, speed-up (RAFTKit %) |")
        print("|---|---:|---:|---:|---|")
        let r = try runLoopIterationBenchmarks(repeats: max(1, repeats / 2))
        for l in r {
            print("| \(l.variant) | \(String(format: "%.0f", l.oneIterationMs)) | \(String(format: "%.0f", l.thirteenIterationsMs)) | \(String(format: "%.1f", l.perIterationMs)) | \(ratio(l.perIterationMs, "update_step_\(l.variant)_55x128")) |")
        }
        record("loop", r)
        print()
    }
    if suites.contains("correlation") {
        print("## Correlation volume + 4-level pyramid + one look-up at 55×128\n")
        print("| model | D | all-pairs ms | on-demand ms | PyTorch (all-pairs): ms, speed-up (RAFTKit %) |")
        print("|---|---:|---:|---:|---|")
        let r = try runCorrelationBenchmarks(repeats: repeats)
        for c in r {
            print("| \(c.variant) | \(c.channels) | \(String(format: "%.1f", c.allPairsMs)) | \(String(format: "%.1f", c.onDemandMs)) | \(ratio(c.allPairsMs, "correlation_\(c.variant)_55x128_D\(c.channels)")) |")
        }
        record("correlation", r)
        print()
    }
    func modelTable(_ rows: [ModelResult]) {
        print("| model | size | correlation | total ms | encoders | corr volume | look-ups | updates | upsampling | workspace MiB | peak RSS MiB | PyTorch: ms, speed-up (RAFTKit %) |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for m in rows {
            let enc = (m.stagesMs["feature encoder"] ?? 0) + (m.stagesMs["context encoder"] ?? 0) + (m.stagesMs["preprocessing"] ?? 0)
            let cols = [enc, m.stagesMs["correlation volume"] ?? 0, m.stagesMs["look-ups"] ?? 0, m.stagesMs["updates"] ?? 0,
                        m.stagesMs["upsampling"] ?? 0].map { String(format: "%.0f", $0) }
            print("| \(m.variant) | \(m.size) | \(m.correlation) | \(String(format: "%.0f", m.totalMs)) | " + cols.joined(separator: " | ")
                  + " | \(String(format: "%.0f", m.workspaceMiB)) | \(String(format: "%.0f", m.peakResidentMiB)) | \(ratio(m.totalMs, "model_\(m.variant)_\(m.size)_12it")) |")
        }
    }
    if suites.contains("model") {
        print("## Full forward pass, 1024×440, 12 iterations\n")
        var rows: [ModelResult] = []
        for v in RAFTVariant.allCases {
            rows.append(try runModelBenchmark(variant: v, height: 440, width: 1024, iterations: 12, correlation: .allPairs, repeats: max(1, repeats / 2)))
        }
        modelTable(rows)
        record("model", rows)
        print()
    }
    if suites.contains("scaling") {
        print("## Scaling with image size (12 iterations)\n")
        var rows: [ModelResult] = []
        for v in RAFTVariant.allCases {
            for (h, w) in [(256, 256), (512, 512), (440, 1024), (1080, 1920)] {
                rows.append(try runModelBenchmark(variant: v, height: h, width: w, iterations: 12, correlation: .automatic, repeats: 1))
            }
        }
        modelTable(rows)
        let bytes = { (h: Int, w: Int) in Double(CorrelationMode.allPairsBytes(samples: 1, height: (h + 7) / 8, width: (w + 7) / 8)) / 1_048_576 }
        print("\nAll-pairs volume + pyramid size: 256×256 \(String(format: "%.0f", bytes(256, 256))) MiB, 512×512 \(String(format: "%.0f", bytes(512, 512))) MiB, 1024×440 \(String(format: "%.0f", bytes(440, 1024))) MiB, 1920×1080 \(String(format: "%.0f", bytes(1080, 1920))) MiB (automatic mode switches to on-demand above \(CorrelationMode.defaultMemoryBudget >> 20) MiB).")
        record("scaling", rows)
        print()
    }
    if suites.contains("receptive-field") {
        print("## Receptive field of GRU variants at 55×128 (see README.md)\n")
        let studies = try runReceptiveFieldBenchmark(repeats: repeats)
        printReceptiveFieldTables(studies)
    }
    if suites.contains("single") {
        // One configuration per process, so that the peak RSS belongs to it alone (Scripts/bench runs these).
        let r = try runModelBenchmark(variant: singleVariant, height: singleSize.height, width: singleSize.width,
                                      iterations: 12, correlation: singleCorrelation, repeats: max(1, repeats / 3),
                                      weights: singleWeights, precision: singlePrecision)
        modelTable([r])
        record("single", [r])
    }
    if suites.contains("sequence") {
        // End-to-end frames/s on 9 PNG frames (8 pairs): naive vs feature reuse vs reuse + overlapped I/O.
        print("## Throughput on a frame sequence, \(singleSize.width)×\(singleSize.height), 12 iterations, PNG in, .flo + colour PNG out\n")
        var rows: [SequenceResult] = []
        for v in chosenVariant.map({ [$0] }) ?? [.small, .basic] {
            rows.append(try runSequenceBenchmark(variant: v, width: singleSize.width, height: singleSize.height,
                                                 repeats: repeats))
        }
        printSequenceTable(rows)
        record("sequence", rows)
        print()
    }
    if suites.contains("memory") {
        // One configuration per process run gives a clean peak-RSS figure.
        print("## Peak memory: 1920×1080, basic, on-demand vs all-pairs\n")
        var rows: [ModelResult] = []
        rows.append(try runModelBenchmark(variant: .basic, height: 1080, width: 1920, iterations: 12, correlation: .onDemand, repeats: 1))
        modelTable(rows)
        record("memory", rows)
    }
} catch {
    FileHandle.standardError.write(Data("raftkit-bench: \(error)\n".utf8))
    exit(1)
}
if let jsonPath {
    let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: jsonPath))
}
