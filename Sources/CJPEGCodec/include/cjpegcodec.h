// CJPEGCodec: JPEG decoding and encoding with libjpeg-turbo's libjpeg API.
//
// libjpeg reports fatal errors through error_exit, which must not return; these functions longjmp back
// to a setjmp that lives in C, so no Swift frame is ever unwound. Errors come back as a status code and a
// message. Decoding is strict: data that libjpeg would decode with a warning (a premature end of the file,
// a bad Huffman code, a damaged data segment) is refused instead of returned with grey or garbled blocks.
// libjpeg's types do not appear in this header.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Outcome of a decode or encode call.
typedef enum {
    CJPG_OK = 0,
    CJPG_NOT_JPEG = 1,       ///< the bytes do not start with a JPEG SOI marker (FF D8 FF)
    CJPG_TRUNCATED = 2,      ///< the data ended before the image was complete
    CJPG_CORRUPT = 3,        ///< damaged markers or entropy-coded data
    CJPG_TOO_LARGE = 4,      ///< dimensions exceed the caller's limits (checked before any pixel allocation)
    CJPG_NO_MEMORY = 5,      ///< an allocation failed
    CJPG_UNSUPPORTED = 6,    ///< a valid file the codec does not handle (e.g. 12-bit samples), or a bad encode request
} cjpg_status;

/// Limits checked against the frame header before image memory is allocated.
typedef struct {
    uint32_t max_width;
    uint32_t max_height;
    uint64_t max_pixels;     ///< width × height
} cjpg_limits;

/// A decoded image as stored (EXIF orientation not applied): rows top to bottom, 8-bit samples interleaved,
/// no padding between rows. Grayscale files give 1 channel; YCbCr, RGB, CMYK and YCCK files give 3 (RGB).
typedef struct {
    uint32_t width, height;
    uint32_t channels;        ///< 1 (gray) or 3 (RGB)
    uint32_t orientation;     ///< EXIF orientation 1…8 from an APP1 Exif marker; 1 when absent or invalid
    uint32_t progressive;     ///< 1 for a progressive file
    uint32_t file_components; ///< components in the file: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK
    uint8_t *data;
} cjpg_raster;

/// A growable byte buffer holding an encoded JPEG.
typedef struct {
    uint8_t *bytes;
    size_t length;
} cjpg_buffer;

/// Decodes a baseline or progressive JPEG held in memory. On success fills `out` (free it with
/// cjpg_raster_free) and returns CJPG_OK; otherwise writes a message to `message` and leaves `out` empty.
/// CMYK and YCCK (Adobe inverted or plain) become RGB as (255−C)(255−K)/255 on the un-inverted values.
int cjpg_decode(const uint8_t *bytes, size_t length, cjpg_limits limits, cjpg_raster *out,
                char *message, size_t message_length);

/// Frees the samples of a raster filled by cjpg_decode (safe on an empty raster).
void cjpg_raster_free(cjpg_raster *raster);

/// Encodes 8-bit rows (1 channel gray or 3 channels RGB, interleaved, no row padding) as a baseline JPEG
/// with `quality` 1…100 (4:2:0 chroma subsampling for RGB). Free `out` with cjpg_buffer_free.
int cjpg_encode(const uint8_t *samples, uint32_t width, uint32_t height, uint32_t channels, int quality,
                cjpg_buffer *out, char *message, size_t message_length);

/// Frees an encoded buffer (safe on an empty one).
void cjpg_buffer_free(cjpg_buffer *buffer);
