/// Forward interpolation of a low-resolution flow (public entry: ``RAFT/forwardInterpolate(_:)``), the official warm start for the next frame pair of a video
/// (core/utils/utils.py, `forward_interpolate`, as evaluate.py's `create_sintel_submission` uses it).
///
/// Every pixel `(x, y)` is moved to `(x + u, y + v)`; moved points strictly inside the grid
/// (`0 < x' < w`, `0 < y' < h`) are kept, and each integer grid position takes the flow of the nearest kept
/// point (Euclidean distance, computed in Double like scipy's `griddata(method='nearest')`; exact ties go to
/// the lowest source index). The search buckets the kept points by the grid cell they fall into and scans
/// rings of cells outwards until no closer point can exist, so it costs about O(h·w) for typical flows.
/// If no point stays inside, the result is zero flow (the official code would raise).
package enum ForwardInterpolation {
    /// - Parameter flow: `[N, 2, h, w]` or `[2, h, w]`, in pixels of that grid.
    /// - Returns: the forward-interpolated flow, same shape.
    package static func interpolate(_ flow: Tensor) -> Tensor {
        precondition((flow.rank == 4 && flow.shape[1] == 2) || (flow.rank == 3 && flow.shape[0] == 2),
                     "flow must be [N, 2, h, w] or [2, h, w], got \(flow.shape)")
        let (n, h, w) = flow.rank == 4 ? (flow.n, flow.h, flow.w) : (1, flow.shape[1], flow.shape[2])
        var out = Tensor(shape: flow.shape)
        let dst = out.mutablePointer()
        let workspace = Workspace()
        for b in 0..<n {
            interpolate(flow.pointer + b * 2 * h * w, height: h, width: w, output: dst + b * 2 * h * w, workspace: workspace)
        }
        return out
    }

    /// One sample `[2, h, w]` → `[2, h, w]`; allocation-free once the workspace has grown.
    package static func interpolate(_ flow: UnsafePointer<Float>, height h: Int, width w: Int,
                                    output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let pixels = h * w
        let u = flow, v = flow + pixels
        // Bucket the kept points by cell (counting sort): cellStart[c]..<cellStart[c+1] index into `order`.
        // Integer data lives in Float buffers, exactly (counts < 2^24 are asserted).
        precondition(pixels < 1 << 24, "flow grid too large for forward interpolation")
        // Scratch (the workspace's forward-interpolation block): per cell its first index into `order`
        // `[h·w + 1]`; the kept points sorted by cell `[h·w]`; each point's cell or −1 `[h·w]`; a fill cursor per
        // cell `[h·w]`.
        let (cellStart, order, cellOf, cursor) = workspace.forwardInterpolation.carve {
            ($0.take(pixels + 1), $0.take(pixels), $0.take(pixels), $0.take(pixels))
        }
        cellStart.update(repeating: 0, count: pixels + 1)
        var kept = 0
        for p in 0..<pixels {
            let x = Double(p % w) + Double(u[p]), y = Double(p / w) + Double(v[p])
            if x > 0 && x < Double(w) && y > 0 && y < Double(h) {
                let cell = Int(y) * w + Int(x)
                cellOf[p] = Float(cell)
                cellStart[cell + 1] += 1
                kept += 1
            } else {
                cellOf[p] = -1
            }
        }
        guard kept > 0 else {
            output.update(repeating: 0, count: 2 * pixels)
            return
        }
        for c in 0..<pixels { cellStart[c + 1] += cellStart[c] }
        // Fill in source order so each cell lists its points by increasing index (for the tie rule).
        cursor.update(from: cellStart, count: pixels)
        for p in 0..<pixels where cellOf[p] >= 0 {
            let c = Int(cellOf[p])
            order[Int(cursor[c])] = Float(p)
            cursor[c] += 1
        }

        for gy in 0..<h {
            for gx in 0..<w {
                var best = -1, bestDistance = Double.infinity
                var ring = 0
                while true {
                    // Cells at Chebyshev distance `ring` from (gx, gy).
                    let y0 = gy - ring, y1 = gy + ring, x0 = gx - ring, x1 = gx + ring
                    if y0 < 0 && y1 >= h && x0 < 0 && x1 >= w { break }
                    for cy in max(y0, 0)...min(y1, h - 1) {
                        let fullRow = cy == y0 || cy == y1
                        var cx = max(x0, 0)
                        while cx <= min(x1, w - 1) {
                            let cell = cy * w + cx
                            for k in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
                                let p = Int(order[k])
                                let dx = Double(p % w) + Double(u[p]) - Double(gx)
                                let dy = Double(p / w) + Double(v[p]) - Double(gy)
                                let d = dx * dx + dy * dy
                                if d < bestDistance || (d == bestDistance && p < best) { bestDistance = d; best = p }
                            }
                            // Inner rows of the ring only have their two end cells.
                            if fullRow || cx == x1 { cx += 1 } else { cx = x1 }
                        }
                    }
                    // Points in ring k+1 lie strictly farther than k: stop once the best is within k.
                    if best >= 0 && bestDistance <= Double(ring * ring) { break }
                    ring += 1
                }
                output[gy * w + gx] = u[best]
                output[pixels + gy * w + gx] = v[best]
            }
        }
    }
}

extension RAFT {
    /// Forward-interpolates a low-resolution flow for a video warm start (core/utils/utils.py,
    /// `forward_interpolate`): every pixel is splatted to `(x + u, y + v)`, points strictly inside the grid are
    /// kept, and each grid position takes the flow of the nearest kept point (zero flow if none is kept).
    /// - Parameter flow: `[N, 2, h, w]` or `[2, h, w]` (e.g. ``RAFTOutput/lowResolutionFlow``).
    /// - Returns: the same shape, to pass as `flowInit` for the next frame pair.
    /// - Throws: ``RAFTError/invalidShape(input:shape:expected:)`` for another shape, or a grid of 2^24 points or
    ///   more.
    public static func forwardInterpolate(_ flow: Tensor) throws(RAFTError) -> Tensor {
        let shapeIsValid = (flow.rank == 4 && flow.shape[1] == 2) || (flow.rank == 3 && flow.shape[0] == 2)
        guard shapeIsValid, flow.shape[flow.rank - 2] * flow.shape[flow.rank - 1] < 1 << 24 else {
            throw .invalidShape(input: "flow", shape: flow.shape, expected: "[N, 2, h, w] or [2, h, w] with h·w < 2^24")
        }
        return ForwardInterpolation.interpolate(flow)
    }
}
