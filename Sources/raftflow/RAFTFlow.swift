import ArgumentParser
import Foundation
import RAFTKit

/// `raftflow`: RAFT optical flow on the CPU, from the command line.
@main
struct RAFTFlow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raftflow",
        abstract: "RAFT optical flow on the CPU: estimate, visualise and evaluate flow.",
        discussion: """
        Weights default to the bundled RAFT-small model; pass --weights for an official checkpoint \
        (raft-things.pth, raft-small.pth, …), a torchvision state_dict or a safetensors file.

        Examples:
          raftflow flow a.png b.png --output flow.flo --visualization flow.png
          raftflow flow a.png b.png -o f.flo --occlusion-mask occ.png
          raftflow warp b.png --flow f.flo -o warped.png
          raftflow sequence frames/ --output-dir flows/ --warm-start
          raftflow batch items.jsonl --output-dir flows/ --shard 0/4
          raftflow evaluate --prediction flows/ --ground-truth gt/
          raftflow info raft-things.pth

        Exit codes: 0 success · 64 usage error · 65 bad input data (unreadable, corrupt or mismatched \
        images, flow files or weights; NaN) · 73 an output file cannot be created.
        """,
        version: "0.1.0",
        subcommands: [FlowCommand.self, SequenceCommand.self, WarpCommand.self, VisualizeCommand.self, EvaluateCommand.self,
                      BatchCommand.self, BatchStatusCommand.self, InfoCommand.self, ReceptiveFieldCommand.self]
    )
}
