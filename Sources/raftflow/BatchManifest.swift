import Foundation
import RAFTKit

/// The manifest of `raftflow batch`: the list of work items, in JSON Lines or CSV.
///
/// Each item is one of
/// - an image pair: `frame1`, `frame2` and `output` (a name relative to the output directory, without
///   extension: `<output>.flo` and `<output>.png` are written, as `raftflow flow` writes them);
/// - a frame folder: `frames` and optionally `output` (a subdirectory of the output directory, by default the
///   folder's own name), into which `raftflow sequence` writes `<frame>.flo` and `<frame>.png` per pair.
///
/// and may set `iterations` (1…1000), `weights` (a weights file) and `warm_start` (a pair: a full-resolution
/// flow file to start from; a folder: true or false, RAFT's video warm start). Relative input paths are
/// relative to the manifest's directory. Items are numbered from 0 in file order; item k belongs to shard
/// k mod N. Every problem is reported with the manifest's name and the line number.
struct BatchManifest {
    /// The manifest file, as given.
    var path: String
    var items: [BatchItem]

    /// Column names of a CSV manifest, and keys of a JSON Lines object.
    static let fields = ["frame1", "frame2", "output", "frames", "iterations", "weights", "warm_start"]

    /// A problem with the manifest: `file:line: reason` (line 0: the whole file).
    struct ParseError: Error, CustomStringConvertible {
        var file: String
        var line: Int
        var reason: String
        var description: String { line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)" }
    }

    /// Reads and checks the manifest at `path`: JSON Lines for `.jsonl`, `.ndjson` and `.json` names, CSV for
    /// `.csv`; any other name by its first character (`{`: JSON Lines).
    /// - Throws: `ParseError` naming the file and line.
    init(contentsOf path: String) throws {
        self.path = path
        let data: Data
        do { data = try FileAccess.read(URL(fileURLWithPath: path), maxBytes: 256 << 20) } catch {
            throw ParseError(file: path, line: 0, reason: error.reason)
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw ParseError(file: path, line: 0, reason: "the manifest is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        // One line break for line numbers: CRLF and CR count as LF.
        text = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let ext = (path as NSString).pathExtension.lowercased()
        let isJSON = ["jsonl", "ndjson", "json"].contains(ext)
            || (ext != "csv" && text.first(where: { !$0.isWhitespace }) == "{")
        let records = isJSON ? try Self.jsonRecords(text, file: path) : try Self.csvRecords(text, file: path)
        let base = (path as NSString).deletingLastPathComponent
        items = try records.enumerated().map { k, record in
            try BatchItem(index: k, line: record.line, fields: record.fields, base: base, file: path)
        }
        guard !items.isEmpty else { throw ParseError(file: path, line: 0, reason: "the manifest has no items") }
        try checkOutputsAreDistinct()
    }

    /// One item's fields before they are checked, with the line it starts on.
    struct Record {
        var line: Int
        var fields: [String: Value]
    }

    /// A field's value: JSON strings, integers and booleans; CSV cells are strings.
    enum Value {
        case string(String)
        case int(Int)
        case bool(Bool)
    }

    /// One JSON object per non-blank line.
    static func jsonRecords(_ text: String, file: String) throws -> [Record] {
        var records: [Record] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            let object: [String: JSONScalar]
            do { object = try JSONDecoder().decode([String: JSONScalar].self, from: Data(line.utf8)) } catch {
                throw ParseError(file: file, line: n + 1, reason: "not a JSON object of strings, numbers and booleans (JSON Lines: one object per line)")
            }
            var fields: [String: Value] = [:]
            for (key, value) in object {
                switch value {
                case .null: continue
                case let .value(v): fields[key] = v
                case .fraction: throw ParseError(file: file, line: n + 1, reason: "'\(key)' must be a whole number")
                }
            }
            records.append(Record(line: n + 1, fields: fields))
        }
        return records
    }

    /// A JSON value of a manifest object: a string, an integer, a boolean, or null (an absent field).
    private enum JSONScalar: Decodable {
        case null
        case value(Value)
        case fraction

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let b = try? container.decode(Bool.self) { self = .value(.bool(b)) }
            else if let i = try? container.decode(Int.self) { self = .value(.int(i)) }
            else if let s = try? container.decode(String.self) { self = .value(.string(s)) }
            else { _ = try container.decode(Double.self); self = .fraction }
        }
    }

    /// RFC 4180 CSV with a header row naming the columns (any of `fields`, in any order). Quoted cells may hold
    /// commas, doubled quotes and line breaks; unquoted cells are trimmed; empty cells are absent fields; blank
    /// lines are skipped.
    static func csvRecords(_ text: String, file: String) throws -> [Record] {
        let rows = try csvRows(text, file: file)
        guard let header = rows.first else { return [] }
        let columns = header.cells.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for column in columns where !fields.contains(column) {
            throw ParseError(file: file, line: header.line,
                             reason: "unknown column '\(column)' in the header (columns: \(fields.joined(separator: ", ")))")
        }
        if let duplicate = columns.enumerated().first(where: { columns[..<$0.offset].contains($0.element) }) {
            throw ParseError(file: file, line: header.line, reason: "column '\(duplicate.element)' appears twice in the header")
        }
        return try rows.dropFirst().map { row in
            guard row.cells.count == columns.count else {
                throw ParseError(file: file, line: row.line,
                                 reason: "\(row.cells.count) cell(s), but the header has \(columns.count) column(s)")
            }
            var fields: [String: Value] = [:]
            for (column, cell) in zip(columns, row.cells) where !cell.isEmpty { fields[column] = .string(cell) }
            return Record(line: row.line, fields: fields)
        }
    }

    /// The non-blank rows of a CSV text, each with the line it starts on.
    private static func csvRows(_ text: String, file: String) throws -> [(line: Int, cells: [String])] {
        var rows: [(line: Int, cells: [String])] = []
        var cells: [String] = [], cell = "", quoted = false, wasQuoted = false
        var line = 1, rowLine = 1
        var chars = Array(text.unicodeScalars.map(Character.init))
        if chars.last != "\n" { chars.append("\n") }
        var i = 0
        func endCell() {
            cells.append(wasQuoted ? cell : cell.trimmingCharacters(in: .whitespaces))
            cell = ""
            wasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { cell.append("\""); i += 1 } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    cell.append(c)
                }
            } else if c == "\"" {
                guard cell.allSatisfy(\.isWhitespace), !wasQuoted else {
                    throw ParseError(file: file, line: line, reason: "a quote inside an unquoted cell (quote the whole cell and double the quote)")
                }
                cell = ""
                quoted = true
                wasQuoted = true
            } else if c == "," {
                endCell()
            } else if c == "\n" {
                endCell()
                if !(cells.count == 1 && cells[0].isEmpty) { rows.append((rowLine, cells)) }
                cells = []
                line += 1
                rowLine = line
            } else if wasQuoted {
                if !c.isWhitespace {
                    throw ParseError(file: file, line: line, reason: "text after a quoted cell's closing quote")
                }
            } else {
                cell.append(c)
            }
            i += 1
        }
        if quoted { throw ParseError(file: file, line: rowLine, reason: "a quoted cell is not closed") }
        return rows
    }

    /// Two items must not write the same file: outputs are distinct, and no output lies inside a frame-folder
    /// item's output directory (whose file names come from the frames).
    private func checkOutputsAreDistinct() throws {
        var seen: [String: BatchItem] = [:]
        for item in items {
            if let other = seen[item.output] {
                throw ParseError(file: path, line: item.line, reason: "output '\(item.output)' is also the output of line \(other.line)")
            }
            seen[item.output] = item
        }
        let folders = items.filter(\.isFolder)
        for item in items {
            for folder in folders where folder.index != item.index && item.output.hasPrefix(folder.output + "/") {
                throw ParseError(file: path, line: item.line,
                                 reason: "output '\(item.output)' is inside the frame folder output '\(folder.output)' of line \(folder.line)")
            }
        }
    }
}

/// One work item of a manifest (see `BatchManifest`), its input paths resolved against the manifest's directory.
struct BatchItem {
    enum Input {
        /// Flow frame1 → frame2, optionally starting from a full-resolution flow file.
        case pair(frame1: String, frame2: String, warmStart: String?)
        /// Flow between consecutive frames of a folder; `warmStart` nil: the command's `--warm-start`.
        case folder(path: String, warmStart: Bool?)
    }

    /// Position in the manifest, from 0.
    var index: Int
    /// The manifest line the item starts on, from 1.
    var line: Int
    var input: Input
    /// The output name relative to the output directory (pair: the stem of its files; folder: a subdirectory).
    var output: String
    var iterations: Int?
    var weights: String?

    var isFolder: Bool { if case .folder = input { true } else { false } }

    /// Checks one record's fields. `base`: the manifest's directory.
    init(index: Int, line: Int, fields: [String: BatchManifest.Value], base: String, file: String) throws {
        func fail(_ reason: String) -> BatchManifest.ParseError { .init(file: file, line: line, reason: reason) }
        if let unknown = fields.keys.sorted().first(where: { !BatchManifest.fields.contains($0) }) {
            if unknown == "video" { throw fail("video items are not supported yet; give a frame folder ('frames') or a pair") }
            throw fail("unknown field '\(unknown)' (fields: \(BatchManifest.fields.joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String? {
            switch fields[key] {
            case nil: return nil
            case let .string(s)?:
                guard !s.isEmpty else { return nil }
                guard !s.contains("\0") else { throw fail("'\(key)' contains a NUL character") }
                return s
            default: throw fail("'\(key)' must be a string")
            }
        }
        func path(_ key: String) throws -> String? {
            try string(key).map { $0.hasPrefix("/") || base.isEmpty ? $0 : (base as NSString).appendingPathComponent($0) }
        }
        self.index = index
        self.line = line
        switch fields["iterations"] {
        case nil: iterations = nil
        case let .int(n)?: iterations = n
        case let .string(s)?:
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)) else { throw fail("'iterations' must be a whole number, not '\(s)'") }
            iterations = n
        case .bool?: throw fail("'iterations' must be a whole number")
        }
        if let iterations, !(1...1000).contains(iterations) { throw fail("'iterations' must be between 1 and 1000, not \(iterations)") }
        weights = try path("weights")

        let frame1 = try path("frame1"), frame2 = try path("frame2"), frames = try path("frames")
        var output = try string("output")
        switch (frame1, frame2, frames) {
        case let (a?, b?, nil):
            var warm: String?
            switch fields["warm_start"] {
            case .bool?, .int?: throw fail("'warm_start' of a pair is a flow file (.flo, KITTI .png or .pfm)")
            default: warm = try path("warm_start")
            }
            input = .pair(frame1: a, frame2: b, warmStart: warm)
            guard output != nil else { throw fail("a pair needs an 'output' name") }
            // "clip/0001.flo" names the stem "clip/0001".
            if let o = output, o.lowercased().hasSuffix(".flo") { output = String(o.dropLast(4)) }
        case (nil, nil, let folder?):
            var warm: Bool?
            switch fields["warm_start"] {
            case nil: warm = nil
            case let .bool(b)?: warm = b
            case let .int(n)? where n == 0 || n == 1: warm = n == 1
            case let .string(s)?:
                switch s.trimmingCharacters(in: .whitespaces).lowercased() {
                case "": warm = nil
                case "true", "yes", "1": warm = true
                case "false", "no", "0": warm = false
                default: throw fail("'warm_start' of a frame folder is true or false, not '\(s)'")
                }
            default: throw fail("'warm_start' of a frame folder is true or false")
            }
            input = .folder(path: folder, warmStart: warm)
            if output == nil {
                let name = (folder as NSString).standardizingPath
                output = (name as NSString).lastPathComponent
            }
        case (nil, nil, nil):
            throw fail("an item needs 'frame1' and 'frame2' (a pair) or 'frames' (a frame folder)")
        case (_, _, _?):
            throw fail("an item is either a pair ('frame1', 'frame2') or a frame folder ('frames'), not both")
        default:
            throw fail("a pair needs both 'frame1' and 'frame2'")
        }
        // The output stays inside the output directory and is not hidden (hidden names are the temporaries'
        // and the reports').
        let o = output!
        let components = o.split(separator: "/", omittingEmptySubsequences: true)
        guard !o.hasPrefix("/"), !components.isEmpty,
              components.allSatisfy({ !$0.hasPrefix(".") }) else {
            throw fail("output '\(o)' must be a relative name inside the output directory, with no '..' and no hidden (dot) component")
        }
        self.output = components.joined(separator: "/")
    }

    /// The files a pair item writes into `outputDir`.
    func pairOutputs(in outputDir: String, kitti: Bool) -> [String] {
        let base = (outputDir as NSString).appendingPathComponent(output)
        return [base + ".flo", base + ".png"] + (kitti ? [base + "_kitti.png"] : [])
    }

    /// The directory a folder item writes into.
    func folderOutput(in outputDir: String) -> String {
        (outputDir as NSString).appendingPathComponent(output)
    }
}
