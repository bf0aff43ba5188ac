import RAFTKit

/// Which state of the GRU the receptive-field analysis perturbs at one cell.
public enum PerturbedState: String, Sendable, Hashable, Codable, CaseIterable {
    /// The input x (context + motion features), held fixed over the iterations as in RAFT.
    case input
    /// The initial hidden state h₀ only.
    case hidden
}

/// Extent of a response around its source, in grid cells: the largest |dy| and |dx| over the cells it reaches.
public struct Extent: Sendable, Hashable, Codable, CustomStringConvertible {
    public var y: Int
    public var x: Int

    public init(y: Int, x: Int) {
        self.y = y
        self.x = x
    }

    /// Side lengths of the bounding window, `(2y+1) × (2x+1)`.
    public var window: (height: Int, width: Int) { (2 * y + 1, 2 * x + 1) }

    /// `±4`, or `±2/±4` (y/x) when the axes differ.
    public var description: String { y == x ? "±\(y)" : "±\(y)/±\(x)" }
}

/// Cells of an `height × width` grid (row-major booleans), e.g. the cells whose hidden state depends on a source.
public struct GridMask: Sendable, Hashable {
    public let height: Int
    public let width: Int
    public var cells: [Bool]

    /// A mask of `cells` (row-major), or with no cell set.
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)`` for a negative side or a `cells` count other than `height·width`.
    public init(height: Int, width: Int, cells: [Bool]? = nil) throws(AnalysisError) {
        try AnalysisError.require("GridMask height", height, atLeast: 0)
        try AnalysisError.require("GridMask width", width, atLeast: 0)
        if let cells, cells.count != height * width {
            throw .invalidArgument("GridMask cells", expected: "\(height)·\(width) = \(height * width) cells", found: "\(cells.count)")
        }
        self.init(unchecked: height, width, cells: cells)
    }

    /// A mask whose sides are non-negative and whose `cells` (if any) match them by construction.
    init(unchecked height: Int, _ width: Int, cells: [Bool]? = nil) {
        self.height = height
        self.width = width
        self.cells = cells ?? [Bool](repeating: false, count: height * width)
    }

    public subscript(y: Int, x: Int) -> Bool {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Number of cells set.
    public var count: Int { cells.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Largest |dy|, |dx| of a set cell from `source` (0, 0 when empty).
    public func extent(from source: (y: Int, x: Int)) -> Extent {
        var e = Extent(y: 0, x: 0)
        for y in 0..<height {
            for x in 0..<width where cells[y * width + x] {
                e.y = max(e.y, abs(y - source.y))
                e.x = max(e.x, abs(x - source.x))
            }
        }
        return e
    }

    /// The cells set in `a` or in `b`.
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)`` when the masks differ in size.
    public static func | (a: GridMask, b: GridMask) throws(AnalysisError) -> GridMask {
        guard a.height == b.height && a.width == b.width && a.cells.count == b.cells.count else {
            throw .invalidArgument("GridMask |", expected: "masks of one size, \(a.height)x\(a.width)", found: "\(b.height)x\(b.width)")
        }
        return GridMask(unchecked: a.height, a.width, cells: zip(a.cells, b.cells).map { $0 || $1 })
    }

    /// The cells `p` that read a set cell through one of `offsets` (`p + o` set and inside the grid): the
    /// support of a convolution's output when the set cells are its input's support.
    func dilated(by offsets: [(y: Int, x: Int)]) -> GridMask {
        var out = GridMask(unchecked: height, width)
        for y in 0..<height {
            for x in 0..<width {
                for o in offsets {
                    let sy = y + o.y, sx = x + o.x
                    if sy >= 0 && sy < height && sx >= 0 && sx < width && cells[sy * width + sx] {
                        out.cells[y * width + x] = true
                        break
                    }
                }
            }
        }
        return out
    }
}

/// The analytical receptive field of gated convolutional GRUs, derived from their kernel offsets.
///
/// A convolution with geometry g makes output cell p read input cells `p + o` for the tap offsets
/// `O = {(ky·dy − py, kx·dx − px)}`. In one gated step `z = σ(Conv_z([h, x]))`, `r = σ(Conv_r([h, x]))`,
/// `q = tanh(Conv_q([r⊙h, x]))`, `h' = (1 − z)⊙h + z⊙q`:
/// - h' reads h at offset 0 (the `(1 − z)⊙h` term), at `O` (through z, and through q's view of `r⊙h`), and at
///   `O ⊕ O` (through r, which is itself a convolution of h, inside q);
/// - h' reads x at `O` (z, q) and `O ⊕ O` (r inside q).
///
/// So a step reaches `2·e` cells per axis, `e = dilation·(kernel − 1)/2` the kernel's half-extent (3×3: ±2, 1×5:
/// ±4 in x, 5×5 or 3×3 dilation 2: ±4), and an iteration of a sequence of steps reaches the sum over its steps
/// (RAFT's 1×5→5×1, core/update.py's `SepConvGRU`: ±4 in both axes). After k iterations the hidden state has
/// heard from a `(2·k·reach + 1)²` window of the initial hidden state and, since x is fed to every iteration, of x.
/// Dilated kernels reach that far with holes: a 3×3 dilation 2 step only ever reaches cells at even offsets.
///
/// ``support(of:height:width:source:perturbing:iterations:)`` propagates these dependency sets cell by cell
/// on a finite grid (a path has to stay inside the grid, where zero padding ends it), so it is exact near
/// borders and for holes; ``ImpulseResponse`` measures the same sets by running the real GRU.
public enum ReceptiveField {
    /// Tap offsets `(ky·dy − py, kx·dx − px)` of a convolution: output p reads input `p + o`.
    public static func offsets(_ g: ConvGeometry) -> [(y: Int, x: Int)] {
        var o: [(y: Int, x: Int)] = []
        for ky in 0..<g.kernelHeight {
            for kx in 0..<g.kernelWidth {
                o.append((ky * g.dilationY - g.paddingY, kx * g.dilationX - g.paddingX))
            }
        }
        return o
    }

    /// How far one gated step's h' reaches into h (and x) per axis: twice the largest tap offset.
    public static func reach(of g: ConvGeometry) -> Extent {
        let o = offsets(g)
        return Extent(y: 2 * o.map { abs($0.y) }.max()!, x: 2 * o.map { abs($0.x) }.max()!)
    }

    /// Reach of one iteration of `variant` (sum over its steps).
    public static func reachPerIteration(_ variant: GRUVariant) -> Extent {
        variant.geometries.reduce(Extent(y: 0, x: 0)) { e, g in
            let r = reach(of: g)
            return Extent(y: e.y + r.y, x: e.x + r.x)
        }
    }

    /// Extent after `iterations` iterations on an unbounded grid: `iterations · reachPerIteration`.
    public static func extent(_ variant: GRUVariant, iterations: Int) -> Extent {
        let r = reachPerIteration(variant)
        return Extent(y: iterations * r.y, x: iterations * r.x)
    }

    /// The cells whose hidden state depends on `source` after each of `iterations` iterations, on an
    /// `height × width` grid with zero padding.
    /// - Parameters:
    ///   - perturbing: `.input`: x at `source` (fed to every step); `.hidden`: h₀ at `source`.
    /// - Returns: `iterations` masks, after iteration 1, 2, ….
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)`` for an invalid variant, negative `iterations` or a `source` outside the grid.
    public static func support(of variant: GRUVariant, height: Int, width: Int, source: (y: Int, x: Int),
                               perturbing: PerturbedState, iterations: Int) throws(AnalysisError) -> [GridMask] {
        try variant.validate()
        try AnalysisError.require("iterations", iterations, atLeast: 0)
        guard source.y >= 0 && source.y < height && source.x >= 0 && source.x < width else {
            throw .invalidArgument("source", expected: "a cell of the \(height)x\(width) grid", found: "\(source)")
        }
        var point = GridMask(unchecked: height, width)
        point[source.y, source.x] = true
        let empty = GridMask(unchecked: height, width)
        let x = perturbing == .input ? point : empty
        var h = perturbing == .hidden ? point : empty
        let stepOffsets = variant.geometries.map(offsets)
        var masks: [GridMask] = []
        for _ in 0..<iterations {
            for o in stepOffsets {
                let hx = try h | x
                let zr = hx.dilated(by: o)                  // z and r read [h, x]
                let q = try (zr | h | x).dilated(by: o)      // q reads [r⊙h, x]
                h = try h | zr | q                           // h' = (1 − z)⊙h + z⊙q
            }
            masks.append(h)
        }
        return masks
    }
}
