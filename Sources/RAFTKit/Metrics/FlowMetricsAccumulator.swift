/// Averages flow metrics over image pairs in the two ways the reference evaluation uses.
///
/// - ``FlowMetricsSummary/pooled``: every valid pixel of every pair weighs the same. This is FlyingChairs'
///   and Sintel's EPE and 1/3/5-px accuracy, and KITTI's **Fl-all**.
/// - ``FlowMetricsSummary/perImage``: each pair's mean first, then the mean over pairs. This is KITTI's
///   **kitti-epe**. Pairs without any valid pixel are counted in `pairs` but left out of this mean.
public struct FlowMetricsAccumulator: Sendable, Codable, Equatable {
    /// Pairs added.
    public private(set) var pairs = 0
    /// Pixel counts pooled over all pairs.
    public private(set) var pooled = FlowErrorStatistics()
    /// Pairs that had at least one valid pixel, and the sums of their per-pair means.
    public private(set) var imagesWithPixels = 0
    private var sumOfMeans = FlowErrorMeans(epe: 0, accuracy1px: 0, accuracy3px: 0, accuracy5px: 0, flAll: 0)

    public init() {}

    /// Adds one pair's statistics.
    public mutating func add(_ statistics: FlowErrorStatistics) {
        pairs += 1
        pooled = pooled + statistics
        guard statistics.validPixels > 0 else { return }
        imagesWithPixels += 1
        sumOfMeans.epe += statistics.epe
        sumOfMeans.accuracy1px += statistics.accuracy1px
        sumOfMeans.accuracy3px += statistics.accuracy3px
        sumOfMeans.accuracy5px += statistics.accuracy5px
        sumOfMeans.flAll += statistics.flAll
    }

    /// Evaluates one pair and adds it; returns that pair's statistics.
    @discardableResult
    public mutating func add(prediction: FlowField, groundTruth: FlowField) throws(FlowMetricsError)
        -> FlowErrorStatistics {
        let statistics = try FlowErrorStatistics(prediction: prediction, groundTruth: groundTruth)
        add(statistics)
        return statistics
    }

    /// The averages so far.
    public var summary: FlowMetricsSummary {
        let n = Double(max(imagesWithPixels, 1))
        return FlowMetricsSummary(
            pairs: pairs, validPixels: pooled.validPixels,
            perImage: FlowErrorMeans(epe: sumOfMeans.epe / n, accuracy1px: sumOfMeans.accuracy1px / n,
                                     accuracy3px: sumOfMeans.accuracy3px / n, accuracy5px: sumOfMeans.accuracy5px / n,
                                     flAll: sumOfMeans.flAll / n),
            pooled: pooled.means)
    }
}

/// Averages over a set of pairs (see ``FlowMetricsAccumulator``); fractions in 0…1.
public struct FlowMetricsSummary: Sendable, Codable, Equatable {
    public var pairs: Int
    public var validPixels: Int
    /// Mean over pairs of each pair's means (KITTI's kitti-epe is `perImage.epe`).
    public var perImage: FlowErrorMeans
    /// Means over all valid pixels of all pairs (Sintel/Chairs EPE and N-px; KITTI Fl-all is `pooled.flAll`).
    public var pooled: FlowErrorMeans

    public init(pairs: Int, validPixels: Int, perImage: FlowErrorMeans, pooled: FlowErrorMeans) {
        self.pairs = pairs
        self.validPixels = validPixels
        self.perImage = perImage
        self.pooled = pooled
    }
}
