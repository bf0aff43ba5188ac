// See include/cjpegcodec.h. Every setjmp is in this file; the longjmp from error_exit never crosses a Swift frame.
#include "cjpegcodec.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

static void set_message(char *buffer, size_t length, const char *text) {
    if (buffer != NULL && length > 0) snprintf(buffer, length, "%s", text);
}

// libjpeg's error manager extended with the jump target and what went wrong.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int status;              // set before jumping: a cjpg_status
    char *message;
    size_t message_length;
} error_state;

static void keep_first_message(error_state *state, j_common_ptr cinfo) {
    if (state->message == NULL || state->message_length == 0 || state->message[0] != '\0') return;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    set_message(state->message, state->message_length, text);
}

static void on_error_exit(j_common_ptr cinfo) {
    error_state *state = (error_state *)cinfo->err;
    keep_first_message(state, cinfo);
    int code = cinfo->err->msg_code;
    if (state->status == CJPG_OK) {
        if (code == JERR_OUT_OF_MEMORY) state->status = CJPG_NO_MEMORY;
        else if (code == JERR_BAD_PRECISION || code == JERR_NOT_COMPILED || code == JERR_CONVERSION_NOTIMPL ||
                 code == JERR_BAD_J_COLORSPACE)
            state->status = CJPG_UNSUPPORTED;
        else if (code == JERR_INPUT_EOF) state->status = CJPG_TRUNCATED;
        else state->status = CJPG_CORRUPT;
    }
    longjmp(state->jump, 1);
}

// Warnings (msg_level −1) that mean damaged data are fatal; the memory source's premature end (it inserts a
// fake EOI and warns) is a truncation. Trace messages (msg_level ≥ 0) are ignored.
static void on_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level >= 0) return;
    error_state *state = (error_state *)cinfo->err;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC) return;
    keep_first_message(state, cinfo);
    state->status = code == JWRN_JPEG_EOF ? CJPG_TRUNCATED : CJPG_CORRUPT;
    longjmp(state->jump, 1);
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void install_errors(error_state *state, char *message, size_t message_length) {
    jpeg_std_error(&state->base);
    state->base.error_exit = on_error_exit;
    state->base.emit_message = on_emit_message;
    state->base.output_message = on_output_message;
    state->status = CJPG_OK;
    state->message = message;
    state->message_length = message_length;
}

// MARK: - EXIF orientation

static uint32_t read16(const uint8_t *p, int little) { return little ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
static uint32_t read32(const uint8_t *p, int little) {
    return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

// The Orientation tag (0x0112, SHORT) of IFD0 in an APP1 "Exif\0\0" payload; 1 when absent or out of bounds.
static uint32_t exif_orientation(const uint8_t *data, size_t length) {
    if (length < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *tiff = data + 6;
    size_t size = length - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (read16(tiff + 2, little) != 42) return 1;
    uint32_t ifd = read32(tiff + 4, little);
    if (ifd > size || size - ifd < 2) return 1;
    uint32_t entries = read16(tiff + ifd, little);
    for (uint32_t k = 0; k < entries; k++) {
        size_t at = (size_t)ifd + 2 + 12 * (size_t)k;
        if (at + 12 > size) return 1;
        if (read16(tiff + at, little) == 0x0112 && read16(tiff + at + 2, little) == 3) {
            uint32_t value = read16(tiff + at + 8, little);
            return value >= 1 && value <= 8 ? value : 1;
        }
    }
    return 1;
}

// MARK: - Decoding

int cjpg_decode(const uint8_t *bytes, size_t length, cjpg_limits limits, cjpg_raster *out,
                char *message, size_t message_length) {
    memset(out, 0, sizeof *out);
    if (message != NULL && message_length > 0) message[0] = '\0';
    static const uint8_t soi[3] = {0xFF, 0xD8, 0xFF};
    if (length < 3 || memcmp(bytes, soi, 3) != 0) {
        if (length > 0 && length < 3 && memcmp(bytes, soi, length) == 0) {
            set_message(message, message_length, "file ends inside the JPEG start marker");
            return CJPG_TRUNCATED;
        }
        set_message(message, message_length, "no JPEG start-of-image marker");
        return CJPG_NOT_JPEG;
    }
    struct jpeg_decompress_struct cinfo;
    error_state errors;
    install_errors(&errors, message, message_length);
    cinfo.err = &errors.base;
    // Locals modified after setjmp and read after the longjmp must be volatile.
    uint8_t *volatile data = NULL;
    uint8_t *volatile cmyk_row = NULL;
    if (setjmp(errors.jump)) {
        free(data);
        free(cmyk_row);
        jpeg_destroy_decompress(&cinfo);
        memset(out, 0, sizeof *out);
        return errors.status == CJPG_OK ? CJPG_CORRUPT : errors.status;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes, (unsigned long)length);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    uint64_t width = cinfo.image_width, height = cinfo.image_height;
    if (width > limits.max_width || height > limits.max_height || width * height > limits.max_pixels) {
        char text[160];
        snprintf(text, sizeof text, "%llux%llu exceeds the limits (%u x %u, %llu pixels)", (unsigned long long)width,
                 (unsigned long long)height, limits.max_width, limits.max_height, (unsigned long long)limits.max_pixels);
        set_message(message, message_length, text);
        jpeg_destroy_decompress(&cinfo);
        out->width = (uint32_t)width;
        out->height = (uint32_t)height;
        return CJPG_TOO_LARGE;
    }
    uint32_t orientation = 1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1) {
            orientation = exif_orientation(m->data, m->data_length);
            if (orientation != 1) break;
        }
    }
    int components = cinfo.num_components;
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = cmyk ? JCS_CMYK : gray ? JCS_GRAYSCALE : JCS_RGB;
    // Adobe's CMYK/YCCK files store inverted samples (0 = full ink); libjpeg returns them as stored.
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    jpeg_start_decompress(&cinfo);

    uint32_t channels = gray ? 1 : 3;
    size_t row_bytes = (size_t)width * channels;
    data = malloc(row_bytes * (size_t)height + 1);
    if (cmyk) cmyk_row = malloc((size_t)width * 4 + 1);
    if (data == NULL || (cmyk && cmyk_row == NULL)) {
        set_message(message, message_length, "cannot allocate the image");
        errors.status = CJPG_NO_MEMORY;
        longjmp(errors.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = data + (size_t)cinfo.output_scanline * row_bytes;
        JSAMPROW target = cmyk ? cmyk_row : row;
        jpeg_read_scanlines(&cinfo, &target, 1);
        if (cmyk) {
            for (size_t x = 0; x < width; x++) {
                unsigned c = cmyk_row[4 * x], m = cmyk_row[4 * x + 1], y = cmyk_row[4 * x + 2], k = cmyk_row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                // Now 255 means no ink: channel = (1 − C)(1 − K), rounded.
                row[3 * x] = (uint8_t)((c * k + 127) / 255);
                row[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                row[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    out->progressive = cinfo.progressive_mode ? 1 : 0;
    jpeg_destroy_decompress(&cinfo);
    free(cmyk_row);
    out->width = (uint32_t)width;
    out->height = (uint32_t)height;
    out->channels = channels;
    out->orientation = orientation;
    out->file_components = (uint32_t)components;
    out->data = data;
    return CJPG_OK;
}

void cjpg_raster_free(cjpg_raster *raster) {
    if (raster == NULL) return;
    free(raster->data);
    raster->data = NULL;
}

// MARK: - Encoding

int cjpg_encode(const uint8_t *samples, uint32_t width, uint32_t height, uint32_t channels, int quality,
                cjpg_buffer *out, char *message, size_t message_length) {
    memset(out, 0, sizeof *out);
    if (message != NULL && message_length > 0) message[0] = '\0';
    if (channels != 1 && channels != 3) {
        set_message(message, message_length, "JPEG stores 1 (gray) or 3 (RGB) channels");
        return CJPG_UNSUPPORTED;
    }
    if (width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        set_message(message, message_length, "JPEG sides must be 1 to 65500 pixels");
        return CJPG_UNSUPPORTED;
    }
    struct jpeg_compress_struct cinfo;
    error_state errors;
    install_errors(&errors, message, message_length);
    cinfo.err = &errors.base;
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    if (setjmp(errors.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return errors.status == CJPG_NO_MEMORY ? CJPG_NO_MEMORY : CJPG_UNSUPPORTED;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = (int)channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t row_bytes = (size_t)width * channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)cinfo.next_scanline * row_bytes);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    out->bytes = buffer;
    out->length = size;
    return CJPG_OK;
}

void cjpg_buffer_free(cjpg_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->bytes);
    buffer->bytes = NULL;
    buffer->length = 0;
}
