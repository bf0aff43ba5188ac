import ArgumentParser
import Foundation
import RAFTKit

struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Colour-code a flow file with the Middlebury colour wheel.",
        discussion: """
        Examples:
          raftflow visualize flow.flo --output flow.png
          raftflow visualize kitti_flow.png --max-magnitude 40 --output v.png
          raftflow visualize --legend --output wheel.png
        """
    )

    @Argument(help: "Flow file: Middlebury .flo, KITTI 16-bit .png or .pfm.", completion: .file())
    var flow: String?
    @Option(name: .shortAndLong, help: "Output PNG.")
    var output: String
    @Option(name: .long, help: "Flow magnitude (pixels) at full colour saturation (default: the flow's maximum).")
    var maxMagnitude: Float?
    @Flag(name: .long, help: "Write the colour-wheel legend instead of (or, with a flow, beside) the picture.")
    var legend = false

    func validate() throws {
        if flow == nil && !legend { throw ValidationError("give a flow file, or --legend") }
        try validateMaxMagnitude(maxMagnitude)
    }

    func run() throws {
        try reportingInputErrors {
            try checkOutputs([output], inputs: [flow])
            var panels: [RGBImage] = []
            if let flow {
                let field = try FlowField.read(contentsOf: URL(fileURLWithPath: flow))
                panels.append(FlowVisualization.colorImage(field, maximumMagnitude: maxMagnitude))
            }
            if legend { panels.append(FlowVisualization.colorWheelLegend(size: panels.first?.height ?? 256)) }
            var outputs = OutputBatch()
            try outputs.add(panels.count == 1 ? panels[0] : FlowVisualization.sideBySide(panels), to: output)
            try outputs.commit()
        }
    }
}
