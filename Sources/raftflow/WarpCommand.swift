import ArgumentParser
import Foundation
import RAFTKit

struct WarpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warp",
        abstract: "Warp IMAGE backwards with a flow: pixel x of the output is IMAGE sampled bilinearly at x + flow(x).",
        discussion: """
        With the flow F from frame 1 to frame 2 (raftflow flow frame1 frame2 --output F.flo), warping frame 2 \
        with F reproduces frame 1 wherever nothing is occluded. Sampling is RAFT's bilinear_sampler \
        (grid_sample with align_corners=True); taps outside IMAGE count as black, and the valid mask (white) \
        marks the pixels whose whole bilinear footprint lies inside IMAGE.

        The photometric error (--error) is taken against --reference, the frame the warp should reproduce (frame 1, \
        the flow's first frame): per pixel the mean absolute difference of R, G and B (0-255 as gray), black \
        where the warp is not valid.

        Examples:
          raftflow warp b.png --flow f.flo -o warped.png --valid-mask v.png
          raftflow warp b.png --flow f.flo -o w.png --error e.png --reference a.png
        """
    )

    @Argument(help: "Image to warp (PNG, JPEG, PPM or PGM): the flow's second frame.", completion: .file())
    var image: String
    @Option(name: .long, help: ArgumentHelp("Flow from the reference frame to IMAGE (.flo, KITTI .png or .pfm), same size as IMAGE.", valueName: "flow"))
    var flow: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Warped image, 8-bit RGB PNG (or .ppm).", valueName: "out.png"))
    var output: String
    @Option(name: .long, help: ArgumentHelp("Valid mask, 8-bit gray PNG (255 = valid).", valueName: "out.png"))
    var validMask: String?
    @Option(name: .long, help: ArgumentHelp("Photometric error against --reference, 8-bit gray PNG.", valueName: "out.png"))
    var error: String?
    @Option(name: .long, help: ArgumentHelp("The frame the warp should reproduce (the flow's first frame), for --error.", valueName: "frame"))
    var reference: String?

    func validate() throws {
        if error != nil && reference == nil { throw ValidationError("--error needs --reference FRAME (the flow's first frame)") }
        if reference != nil && error == nil { throw ValidationError("--reference is used only with --error") }
    }

    func run() throws {
        try reportingInputErrors {
            try checkOutputs([output, validMask, error], inputs: [image, flow, reference])
            let source = try RGBImage(contentsOf: URL(fileURLWithPath: image))
            let field = try FlowField.read(contentsOf: URL(fileURLWithPath: flow))
            guard field.width == source.width && field.height == source.height else {
                throw FlowEstimatorError.sizeMismatch(first: image, firstSize: (source.width, source.height),
                                                      second: flow, secondSize: (field.width, field.height))
            }
            let frame = try reference.map { try RGBImage(contentsOf: URL(fileURLWithPath: $0)) }
            if let frame, let reference, frame.width != source.width || frame.height != source.height {
                throw FlowEstimatorError.sizeMismatch(first: image, firstSize: (source.width, source.height),
                                                      second: reference, secondSize: (frame.width, frame.height))
            }
            let warped = try FlowWarp.warp(source, with: field)
            var outputs = OutputBatch()
            try outputs.add(warped.image, to: output)
            if let validMask { try outputs.add(warped.valid, to: validMask) }
            if let error, let frame { try outputs.add(try FlowWarp.photometricError(warped, reference: frame), to: error) }
            try outputs.commit()
            print("\(image) warped by \(flow): \(source.width)x\(source.height), \(String(format: "%.1f", 100 * warped.valid.fraction))% valid")
        }
    }
}
