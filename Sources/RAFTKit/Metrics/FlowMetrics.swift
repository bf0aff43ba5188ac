/// Error counts of one predicted flow against ground truth, over the valid ground-truth pixels, as in
/// the reference `evaluate.py`:
///
/// - end-point error (EPE) of a pixel: ‖f − f_gt‖₂;
/// - N-px accuracy: the fraction of pixels with EPE **<** N (1, 3, 5 px; higher is better);
/// - Fl-all (KITTI): the fraction of outliers, EPE > 3 px **and** EPE / ‖f_gt‖ > 0.05.
///
/// A pixel is evaluated when the ground truth's mask is ≥ 0.5 (or there is no mask) and its ground-truth
/// flow is finite. A non-finite prediction at such a pixel counts as an infinite error: it is an outlier,
/// inside no N-px threshold, and makes ``epe`` infinite (which `JSONEncoder` refuses by default).
///
/// The counts are stored so that statistics of many pairs can be pooled (``FlowMetricsAccumulator``);
/// the means are derived and also encoded, so `--json` output carries both. Fractions are in 0…1
/// (the reference prints Fl-all as a percentage: multiply by 100).
public struct FlowErrorStatistics: Sendable, Codable, Equatable {
    /// Pixels evaluated.
    public var validPixels: Int
    /// Sum of the per-pixel EPE (Float32 per pixel, summed in Float64).
    public var epeSum: Double
    /// Pixels with EPE < 1, < 3 and < 5 px.
    public var below1px: Int
    public var below3px: Int
    public var below5px: Int
    /// Pixels with EPE > 3 px and EPE / ‖f_gt‖ > 0.05.
    public var outliers: Int

    public init(validPixels: Int = 0, epeSum: Double = 0, below1px: Int = 0, below3px: Int = 0,
                below5px: Int = 0, outliers: Int = 0) {
        self.validPixels = validPixels
        self.epeSum = epeSum
        self.below1px = below1px
        self.below3px = below3px
        self.below5px = below5px
        self.outliers = outliers
    }

    /// The error statistics of `prediction` against `groundTruth` (see the type's definition).
    public init(prediction: FlowField, groundTruth: FlowField) throws(FlowMetricsError) {
        guard prediction.width == groundTruth.width, prediction.height == groundTruth.height else {
            throw .sizeMismatch(prediction: [prediction.width, prediction.height],
                                groundTruth: [groundTruth.width, groundTruth.height])
        }
        self.init()
        let valid = groundTruth.valid
        prediction.uv.withUnsafeBufferPointer { p in
            groundTruth.uv.withUnsafeBufferPointer { g in
                for i in 0..<prediction.width * prediction.height {
                    if let valid, !(valid[i] >= 0.5) { continue }
                    let gu = g[2 * i], gv = g[2 * i + 1]
                    guard gu.isFinite && gv.isFinite else { continue }
                    let du = p[2 * i] - gu, dv = p[2 * i + 1] - gv
                    var epe = (du * du + dv * dv).squareRoot()
                    if epe.isNaN { epe = .infinity }
                    let magnitude = (gu * gu + gv * gv).squareRoot()
                    validPixels += 1
                    epeSum += Double(epe)
                    if epe < 1 { below1px += 1 }
                    if epe < 3 { below3px += 1 }
                    if epe < 5 { below5px += 1 }
                    if epe > 3 && epe / magnitude > 0.05 { outliers += 1 }
                }
            }
        }
    }

    /// Mean EPE (0 when no pixel was evaluated).
    public var epe: Double { validPixels > 0 ? epeSum / Double(validPixels) : 0 }
    /// Fractions of pixels with EPE < 1, 3, 5 px (0 when no pixel was evaluated).
    public var accuracy1px: Double { fraction(below1px) }
    public var accuracy3px: Double { fraction(below3px) }
    public var accuracy5px: Double { fraction(below5px) }
    /// Fraction of Fl outliers (0 when no pixel was evaluated).
    public var flAll: Double { fraction(outliers) }

    /// The means as a value.
    public var means: FlowErrorMeans {
        FlowErrorMeans(epe: epe, accuracy1px: accuracy1px, accuracy3px: accuracy3px, accuracy5px: accuracy5px,
                       flAll: flAll)
    }

    private func fraction(_ count: Int) -> Double { validPixels > 0 ? Double(count) / Double(validPixels) : 0 }

    /// Pools the pixels of two statistics.
    public static func + (a: FlowErrorStatistics, b: FlowErrorStatistics) -> FlowErrorStatistics {
        FlowErrorStatistics(validPixels: a.validPixels + b.validPixels, epeSum: a.epeSum + b.epeSum,
                            below1px: a.below1px + b.below1px, below3px: a.below3px + b.below3px,
                            below5px: a.below5px + b.below5px, outliers: a.outliers + b.outliers)
    }

    private enum CodingKeys: String, CodingKey {
        case validPixels, epeSum, below1px, below3px, below5px, outliers
        case epe, accuracy1px, accuracy3px, accuracy5px, flAll
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(validPixels: try c.decode(Int.self, forKey: .validPixels), epeSum: try c.decode(Double.self, forKey: .epeSum),
                  below1px: try c.decode(Int.self, forKey: .below1px), below3px: try c.decode(Int.self, forKey: .below3px),
                  below5px: try c.decode(Int.self, forKey: .below5px), outliers: try c.decode(Int.self, forKey: .outliers))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(validPixels, forKey: .validPixels)
        try c.encode(epeSum, forKey: .epeSum)
        try c.encode(below1px, forKey: .below1px)
        try c.encode(below3px, forKey: .below3px)
        try c.encode(below5px, forKey: .below5px)
        try c.encode(outliers, forKey: .outliers)
        try c.encode(epe, forKey: .epe)
        try c.encode(accuracy1px, forKey: .accuracy1px)
        try c.encode(accuracy3px, forKey: .accuracy3px)
        try c.encode(accuracy5px, forKey: .accuracy5px)
        try c.encode(flAll, forKey: .flAll)
    }
}

/// Mean EPE and the accuracy / outlier fractions (0…1) of a set of pixels or images.
public struct FlowErrorMeans: Sendable, Codable, Equatable {
    public var epe: Double
    public var accuracy1px: Double
    public var accuracy3px: Double
    public var accuracy5px: Double
    public var flAll: Double

    public init(epe: Double, accuracy1px: Double, accuracy3px: Double, accuracy5px: Double, flAll: Double) {
        self.epe = epe
        self.accuracy1px = accuracy1px
        self.accuracy3px = accuracy3px
        self.accuracy5px = accuracy5px
        self.flAll = flAll
    }
}

/// Why metrics could not be computed.
public enum FlowMetricsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Prediction and ground truth have different sizes ([width, height] each).
    case sizeMismatch(prediction: [Int], groundTruth: [Int])

    public var description: String {
        switch self {
        case let .sizeMismatch(p, g):
            "predicted flow is \(p[0])x\(p[1]) but the ground truth is \(g[0])x\(g[1])"
        }
    }
}
