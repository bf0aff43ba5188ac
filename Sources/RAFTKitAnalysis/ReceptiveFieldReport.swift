import RAFTKit
import Foundation

/// Text renderings of a ``ReceptiveFieldStudy``: Markdown tables (readable on a terminal, pasteable into a
/// README) and CSV.
extension ReceptiveFieldStudy {
    /// One line saying what was measured, on what.
    public var headline: String {
        let o = options
        let dims = o.channels == .basic ? " (RAFT basic)" : o.channels == .small ? " (RAFT small)" : ""
        let states = o.perturbations.map(Self.symbol).joined(separator: ", then ")
        let how = o.method == .linearized ? "linearised response (derivative)"
            : "finite difference, δ = \(Self.number(Double(o.delta))), changes below \(Self.scientific(ImpulseResponse.differenceNoiseGuard)) RMS ignored as noise"
        return "GRU receptive field on a \(o.height)x\(o.width) grid, hidden \(o.channels.hidden) / input \(o.channels.input)\(dims); "
            + "\(states) perturbed at cell (\(o.source.y), \(o.source.x)); \(how); \(o.iterations) iterations; "
            + "mean of \(o.draws) draw\(o.draws == 1 ? "" : "s") of PyTorch-default weights and uniform [-1, 1] states; "
            + "extent threshold τ = \(Self.scientific(o.threshold)) of the peak amplitude; "
            + "timing: median and minimum of \(o.repeats) round-robin runs, OpenBLAS \(blasCore), \(threads) thread\(threads == 1 ? "" : "s")"
    }

    /// `x` or `h₀`.
    static func symbol(_ state: PerturbedState) -> String { state == .input ? "x" : "h₀" }

    /// Cost and reach: parameters, compute, analytical reach, NaN-probe check and speed of each variant.
    public var costTable: String {
        let k = options.iterations
        var rows: [[String]] = [["variant", "spec", "params", "GMAC/it", "reach/it", "GMAC per reach cell",
                                 "RF after \(k) it", "support coverage", "NaN probe", "ms/it", "min ms/it", "GFLOP/s",
                                 "GEMM share"]]
        for r in results {
            let first = r.measurements[0].iterations[k - 1]
            let reach = Double(r.reachPerIteration.y + r.reachPerIteration.x) / 2
            let gmac = Double(r.multiplyAccumulates) / 1e9
            let window = first.theoretical.window
            let clipped = first.support != first.theoretical ? " (grid: \(first.support))" : ""
            var mismatches: [String] = []
            for m in r.measurements {
                for i in m.iterations where !i.probeMatchesAnalysis { mismatches.append("\(Self.symbol(m.perturbed)) k=\(i.iteration)") }
            }
            rows.append([
                r.name, "`\(r.spec)`", Self.grouped(r.parameters), String(format: "%.2f", gmac),
                r.reachPerIteration.description, reach > 0 ? String(format: "%.2f", gmac / reach) : "-",
                "\(first.theoretical) = \(window.height)x\(window.width)\(clipped)",
                String(format: "%.0f %%", 100 * first.supportCoverage),
                mismatches.isEmpty ? "= analysis" : "differs: " + mismatches.joined(separator: ", "),
                r.timing.map { String(format: "%.1f", $0.secondsPerIteration * 1000) } ?? "-",
                r.timing.map { String(format: "%.1f", $0.minimumSecondsPerIteration * 1000) } ?? "-",
                r.timing.map { String(format: "%.1f", $0.gflops) } ?? "-",
                r.timing.map { String(format: "%.0f %%", 100 * $0.gemmFraction) } ?? "-",
            ])
        }
        return Self.markdown(rows, rightAligned: [2, 3, 5, 9, 10, 11, 12])
    }

    /// The measured receptive field after the last iteration, for each perturbed state: extent above τ,
    /// effective radii r50 / r90 and the peak response left.
    public var measuredTable: String {
        let k = options.iterations
        var header = ["variant"]
        for state in options.perturbations {
            let s = Self.symbol(state)
            header += ["extent > τ (\(s))", "ERF r50 / r90 (\(s))", "peak response (\(s))"]
        }
        var rows = [header]
        for r in results {
            var row = [r.name]
            for m in r.measurements {
                let last = m.iterations[k - 1]
                row += [last.thresholdExtent.description, String(format: "%.1f / %.1f", last.radius50, last.radius90),
                        String(format: "%.1e", last.peakAmplitude)]
            }
            rows.append(row)
        }
        return Self.markdown(rows, rightAligned: Array(1..<header.count))
    }

    /// Both summary tables with one-line captions.
    public var summaryTable: String {
        "Cost and reach (GMAC per reach cell = GMAC/it ÷ reach/it; support coverage = reachable cells ÷ the RF window "
            + "on this grid):\n\n" + costTable
            + "\nMeasured receptive field after \(options.iterations) iterations (extent in cells; ERF radii: Chebyshev "
            + "radius holding 50 % / 90 % of the response energy; peak response: RMS change per hidden channel at the "
            + "strongest cell, per unit perturbation):\n\n" + measuredTable
    }

    /// Per-iteration tables: for each perturbed state the effective radii r50 / r90 and the extent above the
    /// threshold after k = 1…K, then the analytical extent.
    public var iterationTables: String {
        let ks = 1...options.iterations
        let header = ["variant"] + ks.map { "k=\($0)" }
        let right = Array(1...options.iterations)
        var out = ""
        for (index, state) in options.perturbations.enumerated() {
            var erf = [header], ext = [header], peak = [header]
            for r in results {
                let m = r.measurements[index]
                erf.append([r.name] + m.iterations.map { String(format: "%.1f / %.1f", $0.radius50, $0.radius90) })
                ext.append([r.name] + m.iterations.map { $0.thresholdExtent.description })
                peak.append([r.name] + m.iterations.map { String(format: "%.1e", $0.peakAmplitude) })
            }
            let s = Self.symbol(state)
            out += "Effective receptive field, \(s) perturbed: Chebyshev radius (cells) holding 50 % / 90 % of the response energy:\n\n"
                + Self.markdown(erf, rightAligned: right)
                + "\nExtent of the response above τ = \(Self.scientific(options.threshold)) of the peak amplitude, \(s) perturbed:\n\n"
                + Self.markdown(ext, rightAligned: right)
                + "\nPeak response, \(s) perturbed: RMS change per hidden channel at the strongest cell, per unit perturbation:\n\n"
                + Self.markdown(peak, rightAligned: right) + "\n"
        }
        var theory = [header]
        for r in results { theory.append([r.name] + r.measurements[0].iterations.map { $0.support.description }) }
        return out + "Analytical extent on this grid (= NaN-probe extent):\n\n" + Self.markdown(theory, rightAligned: right)
    }

    /// Headline, summary and per-iteration tables.
    public var report: String { headline + "\n\n" + summaryTable + "\n" + iterationTables }

    /// One CSV row per variant, perturbed state and iteration.
    public var csv: String {
        var lines = ["spec,name,hidden,input,height,width,perturbed,method,delta,draws,threshold,parameters,macs_per_iteration,"
            + "reach_y,reach_x,iteration,theory_y,theory_x,support_y,support_x,support_cells,support_coverage,probe_y,probe_x,"
            + "probe_matches,extent_y,extent_x,erf_r50,erf_r90,peak_amplitude,energy_outside_support,ms_per_iteration,min_ms_per_iteration,gflops,gemm_ms_per_iteration,min_gemm_ms_per_iteration"]
        let o = options
        for r in results {
            for m in r.measurements {
                for i in m.iterations {
                    var f: [String] = ["\"\(r.spec)\"", "\"\(r.name)\"", "\(o.channels.hidden)", "\(o.channels.input)", "\(o.height)",
                                       "\(o.width)", m.perturbed.rawValue, o.method.rawValue, "\(o.delta)", "\(o.draws)", "\(o.threshold)",
                                       "\(r.parameters)", "\(r.multiplyAccumulates)", "\(r.reachPerIteration.y)",
                                       "\(r.reachPerIteration.x)", "\(i.iteration)", "\(i.theoretical.y)", "\(i.theoretical.x)",
                                       "\(i.support.y)", "\(i.support.x)", "\(i.supportCells)", String(format: "%.4f", i.supportCoverage),
                                       "\(i.probe.y)", "\(i.probe.x)", i.probeMatchesAnalysis ? "true" : "false",
                                       "\(i.thresholdExtent.y)", "\(i.thresholdExtent.x)", String(format: "%.4f", i.radius50),
                                       String(format: "%.4f", i.radius90), String(format: "%.4e", i.peakAmplitude),
                                       "\(i.energyOutsideSupport)"]
                    if let t = r.timing {
                        f += [String(format: "%.4f", t.secondsPerIteration * 1000),
                              String(format: "%.4f", t.minimumSecondsPerIteration * 1000), String(format: "%.3f", t.gflops),
                              String(format: "%.4f", t.gemmSecondsPerIteration * 1000),
                              String(format: "%.4f", t.minimumGemmSecondsPerIteration * 1000)]
                    } else {
                        f += ["", "", "", "", ""]
                    }
                    lines.append(f.joined(separator: ","))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Formatting

    /// A Markdown pipe table with padded columns; `rightAligned` columns get `---:`.
    static func markdown(_ rows: [[String]], rightAligned: [Int] = []) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 3, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { i, c in
                let fill = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? fill + c : c + fill
            }.joined(separator: " | ") + " |"
        }
        var out = [line(rows[0])]
        out.append("|" + widths.enumerated().map { i, w in
            rightAligned.contains(i) ? String(repeating: "-", count: w + 1) + ":" : String(repeating: "-", count: w + 2)
        }.joined(separator: "|") + "|")
        for row in rows.dropFirst() { out.append(line(row)) }
        return out.joined(separator: "\n") + "\n"
    }

    /// 1475328 → "1,475,328".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// 1e-4 → "1e-04" style without trailing noise.
    static func scientific(_ v: Double) -> String { String(format: "%.0e", v) }

    /// 1.0 → "1", 0.5 → "0.5".
    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%g", v)
    }
}
