import Foundation
import RAFTKit
import RAFTKitAnalysis

/// Issue 5: the receptive field of GRU variants — parameters, compute, reach and speed, side by side
/// (``ReceptiveFieldStudy``). The same study as `raftflow receptive-field`; see Benchmarks/README.md.
///
/// - Parameters:
///   - dims: channel counts to study, RAFT's basic (hidden 128, input 256) and small (96, 146) by default.
///   - variants: GRU variants; default the six of ``GRUVariant/defaults``.
///   - height, width: the grid (55×128: Sintel at 1/8 resolution).
///   - iterations: K; the receptive field is reported after each k = 1…K.
///   - draws: random weight and state draws averaged in the response.
///   - repeats: timed iterations per median (0 skips timing).
///   - heatmapPrefix: when set, writes `<prefix>-basic.png` / `<prefix>-small.png` heat maps.
/// - Returns: one study per entry of `dims`.
func runReceptiveFieldBenchmark(dims: [GRUChannels] = [.basic, .small], variants: [GRUVariant] = GRUVariant.defaults,
                                height: Int = 55, width: Int = 128, iterations: Int = 8, draws: Int = 4,
                                repeats: Int = 5, heatmapPrefix: String? = nil) throws -> [ReceptiveFieldStudy] {
    var studies: [ReceptiveFieldStudy] = []
    for channels in dims {
        let options = ReceptiveFieldStudy.Options(variants: variants, channels: channels, height: height, width: width,
                                                  iterations: iterations, draws: draws, repeats: repeats)
        let study = try ReceptiveFieldStudy.run(options) { line in
            FileHandle.standardError.write(Data("receptive-field (hidden \(channels.hidden)): \(line)\n".utf8))
        }
        if let heatmapPrefix {
            let name = channels == .basic ? "basic" : channels == .small ? "small" : "h\(channels.hidden)-x\(channels.input)"
            let path = "\(heatmapPrefix)-\(name).png"
            do { try study.heatMap().image.write(to: URL(fileURLWithPath: path)) } catch {
                FileHandle.standardError.write(Data("receptive-field: cannot write \(path): \(error)\n".utf8))
            }
        }
        studies.append(study)
    }
    return studies
}

/// Prints each study's summary and per-iteration tables (Markdown, as in Benchmarks/README.md).
func printReceptiveFieldTables(_ studies: [ReceptiveFieldStudy]) {
    for study in studies {
        print("### GRU receptive field, hidden \(study.options.channels.hidden) / input \(study.options.channels.input)\n")
        print(study.report)
    }
}
