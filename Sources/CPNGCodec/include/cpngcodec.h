// CPNGCodec: exact PNG decoding and encoding with libpng's classic API.
//
// libpng reports errors with longjmp. Swift frames cannot be unwound that way, so every libpng call
// happens inside these functions, below a setjmp that lives in C; errors come back as a status code and
// a message. No gamma or colour-space conversion is ever applied: samples are returned exactly as
// stored, whatever gAMA, sRGB, iCCP or cHRM chunks say. libpng's types do not appear in this header.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Outcome of a decode or encode call.
typedef enum {
    CPNG_OK = 0,
    CPNG_NOT_PNG = 1,        ///< the bytes do not start with the PNG signature
    CPNG_TRUNCATED = 2,      ///< the data ended before the image (or its IEND chunk) was complete
    CPNG_CORRUPT = 3,        ///< damaged chunk, bad CRC on a critical chunk, bad zlib stream, invalid header
    CPNG_TOO_LARGE = 4,      ///< dimensions exceed the caller's limits (checked before any pixel allocation)
    CPNG_NO_MEMORY = 5,      ///< an allocation failed
    CPNG_UNSUPPORTED = 6,    ///< a request the codec does not handle (e.g. an invalid channel count to encode)
} cpng_status;

/// Limits checked against the IHDR chunk before image memory is allocated.
typedef struct {
    uint32_t max_width;
    uint32_t max_height;
    uint64_t max_pixels;     ///< width × height
} cpng_limits;

/// A decoded image: rows top to bottom, samples interleaved, no padding between rows.
/// `data` holds uint8_t samples when bit_depth is 8 and host-order uint16_t samples when it is 16.
typedef struct {
    uint32_t width, height;
    uint32_t channels;            ///< 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette images become 3 or 4)
    uint32_t bit_depth;           ///< 8 or 16 after expansion (1/2/4-bit gray and palettes become 8)
    uint32_t file_bit_depth;      ///< the bit depth stored in IHDR
    uint32_t file_color_type;     ///< PNG colour type from IHDR (0, 2, 3, 4, 6)
    uint32_t interlaced;          ///< 1 when the file uses Adam7 interlacing
    void *data;
} cpng_raster;

/// A growable byte buffer holding an encoded PNG.
typedef struct {
    uint8_t *bytes;
    size_t length;
    size_t capacity;
} cpng_buffer;

/// Decodes a PNG held in memory. On success fills `out` (free it with cpng_raster_free) and returns
/// CPNG_OK; otherwise writes a message to `message` and leaves `out` empty.
int cpng_decode(const uint8_t *bytes, size_t length, cpng_limits limits, cpng_raster *out,
                char *message, size_t message_length);

/// Frees the samples of a raster filled by cpng_decode (safe on an empty raster).
void cpng_raster_free(cpng_raster *raster);

/// Encodes rows of samples (uint8_t for bit_depth 8, host-order uint16_t for 16; channels 1–4 mean
/// gray, gray+alpha, RGB, RGBA) as a PNG in memory. `compression_level` is zlib's 0–9, or -1 for the
/// default; `interlace` non-zero writes Adam7. Free `out` with cpng_buffer_free.
int cpng_encode(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                int compression_level, int interlace, cpng_buffer *out, char *message, size_t message_length);

/// Frees an encoded buffer (safe on an empty one).
void cpng_buffer_free(cpng_buffer *buffer);
