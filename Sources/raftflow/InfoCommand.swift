import ArgumentParser
import Foundation
import RAFTKit

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a weight file: model, parameter count, key scheme, file format.",
        discussion: """
        Examples:
          raftflow info raft-things.pth
          raftflow info --json Models/raft-small-default.safetensors
          raftflow info            (the bundled default model)
        """
    )

    @Argument(help: "Weights (.pth or .safetensors); default: the bundled model.", completion: .file())
    var weights: String?
    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try reportingInputErrors {
            let info = try weights.map { try WeightsLoader.load(contentsOf: URL(fileURLWithPath: $0)) } ?? WeightsLoader.bundled()
            let summary = InfoSummary(file: weights ?? "bundled", model: info.variant?.rawValue ?? "unknown",
                                      parameters: info.parameterCount, tensors: info.stateDict.tensors.count,
                                      keyScheme: info.keyScheme.rawValue, format: info.format.rawValue)
            if json {
                print(jsonString(summary))
            } else {
                print("""
                file        \(summary.file)
                model       RAFT-\(summary.model)
                parameters  \(summary.parameters)
                tensors     \(summary.tensors)
                key scheme  \(summary.keyScheme)
                format      \(summary.format)
                """)
            }
        }
    }
}

struct InfoSummary: Encodable {
    var file: String, model: String, parameters: Int, tensors: Int, keyScheme: String, format: String
}
