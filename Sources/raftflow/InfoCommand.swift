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
            let summary = info.summary
            if json {
                print(try jsonString(InfoSummary(file: weights ?? summary.file, model: info.variant?.rawValue ?? "unknown",
                                             parameters: info.parameterCount, tensors: info.stateDict.tensors.count,
                                             keyScheme: info.keyScheme.rawValue, format: info.format.rawValue,
                                             dataTypes: summary.storedDataTypes)))
            } else {
                for (label, value) in summary.fields {
                    print(label.padding(toLength: 12, withPad: " ", startingAt: 0) + value)
                }
            }
        }
    }
}

struct InfoSummary: Encodable {
    var file: String, model: String, parameters: Int, tensors: Int, keyScheme: String, format: String
    var dataTypes: [String]
}
